import AuthorityAPI
import Testing

/// The decoder every client of the event stream uses: chunks and frames whatever the reads.
@Suite struct EventStreamDecoderTests {
    static let body =
        "retry: 1000\n\nid: 7\nevent: used_up\ndata: {\"kind\":\"used_up\",\"link_id\":\"abc\"}\n\n: keep-alive\n\nid: 8\nevent: used\ndata: {\"link_id\":\"d\"}\n\n"

    static func chunked(_ text: String, pieces: Int) -> [UInt8] {
        let bytes = Array(text.utf8)
        let size = (bytes.count + pieces - 1) / pieces
        var out: [UInt8] = []
        for start in stride(from: 0, to: bytes.count, by: size) {
            let chunk = bytes[start..<min(start + size, bytes.count)]
            out += Array("\(String(chunk.count, radix: 16))\r\n".utf8) + chunk + Array("\r\n".utf8)
        }
        return out
    }

    @Test func framesComeWholeWhateverTheReadsAndChunks() throws {
        let expected = [
            EventStreamDecoder.Frame(id: "7", event: "used_up", data: "{\"kind\":\"used_up\",\"link_id\":\"abc\"}"),
            EventStreamDecoder.Frame(id: "8", event: "used", data: "{\"link_id\":\"d\"}"),
        ]
        for pieces in [1, 3, 17] {
            let wire = Self.chunked(Self.body, pieces: pieces) + Array("0\r\n\r\n".utf8)
            for read in [1, 5, wire.count] {
                var decoder = EventStreamDecoder(chunked: true)
                var frames: [EventStreamDecoder.Frame] = []
                for start in stride(from: 0, to: wire.count, by: read) {
                    frames += try decoder.feed(wire[start..<min(start + read, wire.count)])
                }
                #expect(frames == expected, "pieces \(pieces), reads of \(read)")
                #expect(decoder.ended)
            }
        }
        var plain = EventStreamDecoder(chunked: false)
        #expect(try plain.feed(Array(Self.body.utf8)) == expected)
        #expect(!plain.ended)
    }

    @Test func aFrameWaitsForItsEmptyLine() throws {
        var decoder = EventStreamDecoder(chunked: false)
        #expect(try decoder.feed(Array("id: 1\nevent: used\ndata: {}\n".utf8)).isEmpty)
        #expect(try decoder.feed(Array("\n".utf8)) == [EventStreamDecoder.Frame(id: "1", event: "used", data: "{}")])
    }

    @Test func aBadChunkSizeIsAnError() {
        var decoder = EventStreamDecoder(chunked: true)
        #expect(throws: EventStreamError.badChunkSize("zz")) { _ = try decoder.feed(Array("zz\r\n".utf8)) }
    }
}
