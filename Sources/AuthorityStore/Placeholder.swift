public enum AuthorityStorePlaceholder {}
