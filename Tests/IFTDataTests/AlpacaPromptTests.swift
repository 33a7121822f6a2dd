import IFTData
import XCTest

final class AlpacaPromptTests: XCTestCase {
    func testInputSectionOnlyWhenThereIsAnInput() {
        let with = AlpacaPrompt.prompt(instruction: "Add.", input: "2 + 3")
        XCTAssertTrue(with.hasSuffix("### Instruction:\nAdd.\n\n### Input:\n2 + 3\n\n### Response:\n"))
        let without = AlpacaPrompt.prompt(instruction: "Say hi.", input: "")
        XCTAssertFalse(without.contains("### Input:"))
        XCTAssertTrue(without.hasPrefix(AlpacaPrompt.preamble + "\n\n"))
    }
}
