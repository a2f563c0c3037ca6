import DialectSpec

/// The streaming-upload variant of Chat Completions audio (`sse-stream`): the request's body is
/// the recording itself, raw PCM16 24 kHz mono, streamed as it is spoken (chunked transfer
/// encoding) and ended at the end of speech; the answer is Chat Completions' event stream, read
/// as `ChatCompletionsDialect` reads it. The endpoint — an edge function — wraps the audio into
/// the model's request once the body ends, so no client encoding lies on the path to the answer.
package struct ChatCompletionsStreamDialect: SSEDialect {
    package let options: ChatCompletionsOptions

    package init(options: ChatCompletionsOptions = ChatCompletionsOptions()) {
        self.options = options
    }

    package var name: String { "openai-chat-completions-stream" }
    package var inputFormat: AudioFormat { .pcm16At24k }
    package var upload: SSEUpload { .streamed }

    package func request(audio: [UInt8], turn: Int) -> DialectRequest {
        DialectRequest(headers: ["Content-Type: audio/pcm; rate=24000; channels=1"], body: audio)
    }

    package func makeInterpreter() -> any EventInterpreter { ChatCompletionsDialect(options: options) }
}
