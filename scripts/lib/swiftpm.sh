# Sourced by the scripts that build: swift_build ARGS... runs `swift build ARGS...` and, when
# SwiftPM itself dies of a signal (exit status above 128; CI saw swift-package crash with signal 11
# in libdispatch halfway through a debug build), runs it again, at most twice more. A compile
# error exits 1 and is never retried.
swift_build() {
    local attempt status
    for attempt in 1 2 3; do
        status=0
        swift build "$@" || status=$?
        if [ "$status" -le 128 ]; then return "$status"; fi
        echo "== swift build $* died of signal $((status - 128)) (attempt $attempt of 3): SwiftPM crashed, not the compiler's verdict" >&2
    done
    return "$status"
}
