public enum AuthorityAPIPlaceholder {}
