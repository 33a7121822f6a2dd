/// The Alpaca prompt of *Build a Large Language Model From Scratch*, chapter 7: a preamble, the
/// instruction, the optional input, and the response header.
public enum AlpacaPrompt {
    public static let preamble =
        "Below is an instruction that describes a task. Write a response that appropriately completes the request."

    /// The prompt for one example, ending with the response header ("\n\n### Response:\n").
    public static func prompt(instruction: String, input: String) -> String {
        var s = preamble + "\n\n### Instruction:\n" + instruction
        if !input.isEmpty { s += "\n\n### Input:\n" + input }
        return s + "\n\n### Response:\n"
    }
}
