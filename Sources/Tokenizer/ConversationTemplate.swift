/// Conversation templates LLaVA's evaluation builds its prompts with (llava/conversation.py).
public enum ConversationTemplate: Sendable {
    /// `conv_vicuna_v1`: separator style TWO, sep " ", sep2 "</s>", roles USER / ASSISTANT.
    case vicunaV1

    /// The system message that opens every prompt.
    public var system: String {
        switch self {
        case .vicunaV1:
            return "A chat between a curious user and an artificial intelligence assistant. "
                + "The assistant gives helpful, detailed, and polite answers to the user's questions."
        }
    }

    /// The prompt for one user turn followed by an empty assistant turn, as `conv.get_prompt()` gives it
    /// after `append_message(USER, message)` and `append_message(ASSISTANT, None)`.
    public func prompt(userMessage: String) -> String {
        switch self {
        case .vicunaV1:
            // Style TWO: system + sep, then "ROLE: message" + sep for filled turns and "ROLE:" for the open one.
            return system + " " + "USER: " + userMessage + " " + "ASSISTANT:"
        }
    }

    /// The prompt for a question about one image: the user message is "<image>\n" + question, as LLaVA's
    /// evaluation scripts build it when `mm_use_im_start_end` is off.
    public func prompt(imageQuestion question: String) -> String {
        prompt(userMessage: ImageTokens.placeholder + "\n" + question)
    }
}
