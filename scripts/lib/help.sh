# Sourced (with no arguments, so it sees and shifts the caller's own) by the scripts that pass
# their arguments on to another program, once they have defined usage():
#   . "$(dirname "$0")/lib/help.sh"
# -h or --help as the first argument prints usage() and exits 0; a first -- is dropped, so that
# what follows it goes on unchanged, even -h and --help.
case "${1:-}" in
-h | --help) usage; exit 0 ;;
--) shift ;;
esac
