import IFTCore
import IFTModel
import XCTest

@testable import IFTEval

/// Every instruction type: a response that follows it and one that does not (strict), each case
/// built from the official checker's rule (see the doc comment of each checker).
final class IFEvalTests: XCTestCase {
    /// An instruction from its id and kwargs written as JSON.
    func instruction(_ id: String, _ kwargs: String = "{}") throws -> IFEvalInstruction {
        let object = try XCTUnwrap(try JSONValue.parse(kwargs).objectValue)
        return try IFEvalInstruction(id: id, kwargs: object)
    }

    /// Asserts that `id` with `kwargs` follows each of `passing` and none of `failing`, strictly.
    func check(_ id: String, _ kwargs: String = "{}", pass passing: [String], fail failing: [String],
               file: StaticString = #filePath, line: UInt = #line) throws {
        let i = try instruction(id, kwargs)
        let prompt = IFEvalPrompt(key: 1, prompt: "p", instructions: [i])
        for r in passing {
            XCTAssertEqual(IFEval.score(prompt, response: r, mode: .strict).followed, [true], "\(id) should pass: \(r)", file: file, line: line)
        }
        for r in failing {
            XCTAssertEqual(IFEval.score(prompt, response: r, mode: .strict).followed, [false], "\(id) should fail: \(r)", file: file, line: line)
        }
    }

    func testKeywords() throws {
        try check("keywords:existence", #"{"keywords": ["cat", "Dog"]}"#,
                  pass: ["A DOG and a concatenated word."], fail: ["Only a dog here.", "kitty and dog"])
        try check("keywords:frequency", #"{"keyword": "the", "frequency": 3, "relation": "at least"}"#,
                  pass: ["The cat, the dog and theory."], fail: ["The cat and the dog."])
        try check("keywords:frequency", #"{"keyword": "war", "frequency": 2, "relation": "less than"}"#,
                  pass: ["One war only."], fail: ["War and warfare."])
        try check("keywords:forbidden_words", #"{"forbidden_words": ["run", "bark"]}"#,
                  pass: ["The dog was running and barking."], fail: ["Dogs RUN.", "a bark!"])
        try check("keywords:letter_frequency", #"{"letter": "e", "let_frequency": 3, "let_relation": "at least"}"#,
                  pass: ["EeE"], fail: ["ee", "abc"])
        try check("keywords:letter_frequency", #"{"letter": "!", "let_frequency": 2, "let_relation": "less than"}"#,
                  pass: ["Hi!"], fail: ["Hi! Yo!"])
    }

    func testResponseLanguage() throws {
        try check("language:response_language", #"{"language": "hi"}"#,
                  pass: ["यह एक छोटी कहानी है और लोग खुश थे।", "12345 !!!"],
                  fail: ["This is a short story.", "ही एका शहराची छोटी गोष्ट आहे आणि लोक आनंदी होते."])
        try check("language:response_language", #"{"language": "de"}"#,
                  pass: ["Das ist eine kurze Geschichte über die Stadt und die Menschen."],
                  fail: ["Questa è una breve storia sulla città e le persone."])
        try check("language:response_language", #"{"language": "fa"}"#,
                  pass: ["این یک داستان کوتاه درباره شهری است که مردم در آن زندگی می‌کردند."],
                  fail: ["یہ ایک چھوٹی سی کہانی ہے جس میں لوگ رہتے تھے۔"])
        try check("language:response_language", #"{"language": "bg"}"#,
                  pass: ["Това е кратка история за града, в който хората живееха."],
                  fail: ["Это короткая история о городе, в котором жили люди."])
    }

    func testLengthConstraints() throws {
        try check("length_constraints:number_sentences", #"{"num_sentences": 3, "relation": "less than"}"#,
                  pass: ["Dr. Smith met Mr. Jones at 3.5 p.m. today. They talked."], fail: ["One. Two. Three."])
        try check("length_constraints:number_sentences", #"{"num_sentences": 2, "relation": "at least"}"#,
                  pass: ["It rained! Then what? Nothing.", "Use e.g. apples."], fail: ["It rained in the U.S. yesterday", "Met J. Smith in 2020. at noon"])
        try check("length_constraints:number_paragraphs", #"{"num_paragraphs": 2}"#,
                  pass: ["First.\n***\nSecond.", "***\nFirst. *** Second.\n***"], fail: ["First.\n***\n***\nSecond.", "Only one."])
        try check("length_constraints:number_words", #"{"num_words": 5, "relation": "at least"}"#,
                  pass: ["one two three four five", "don't stop_me now, 2024"], fail: ["one two, three-four"])
        try check("length_constraints:number_words", #"{"num_words": 3, "relation": "less than"}"#,
                  pass: ["Hello world!"], fail: ["Hello big world"])
        try check("length_constraints:nth_paragraph_first_word",
                  #"{"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "Summary"}"#,
                  pass: ["Intro.\n\n\"Summary, here.\n\nEnd.", "Intro.\n\nsummary! yes\n\nEnd."],
                  fail: ["Intro.\n\nsummary: yes\n\nEnd.", "Intro.\n\nOverview.\n\nEnd.", "Intro.\n\nSummary.\n\nEnd.\n\nMore.", "Intro.\n\n\n\nSummary.\n\nEnd."])
    }

    func testDetectableContent() throws {
        try check("detectable_content:number_placeholders", #"{"num_placeholders": 2}"#,
                  pass: ["Dear [name], at [address]."], fail: ["Dear [name\n], at [address].", "[]"])
        try check("detectable_content:postscript", #"{"postscript_marker": "P.S."}"#,
                  pass: ["Bye.\np. s. see you", "Bye.\nP.S. Later"], fail: ["Bye. PS later", "Bye.\nP.P.S later"])
        try check("detectable_content:postscript", #"{"postscript_marker": "P.P.S"}"#,
                  pass: ["Bye.\nP.P.S later", "p. p. s"], fail: ["Bye.\nP.S. later"])
    }

    func testDetectableFormat() throws {
        try check("detectable_format:number_bullet_lists", #"{"num_bullets": 3}"#,
                  pass: ["Intro\n* one\n* two\n- three", "  * a\n\n  * b\n---"],
                  fail: ["* one\n* two", "* one\n** bold\n* two\n* three\n* four"])
        try check("detectable_format:constrained_response",
                  pass: ["  Well. My answer is maybe. "], fail: ["my answer is yes.", "My answer is Yes."])
        try check("detectable_format:number_highlighted_sections", #"{"num_highlights": 2}"#,
                  pass: ["*one* and **two**", "*a* *b*"], fail: ["**one** only", "* * and *\nx*"])
        try check("detectable_format:multiple_sections", #"{"section_spliter": "Section", "num_sections": 2}"#,
                  pass: ["Section 1\nA\nSection 2\nB", "Section1 a Section 22 b"], fail: ["Section 1\nA\nSECTION 2\nB", "Section one\nSection two"])
        try check("detectable_format:json_format",
                  pass: ["```json\n{\"a\": [1, 2.5e3, null, NaN]}\n```", " \"text\" ", "{\"a\": 1, \"a\": 2}"],
                  fail: ["{'a': 1}", "```json\n{\"a\": 1,}\n```", "{\"a\": 1} extra", "Here: {\"a\": 1}"])
        try check("detectable_format:title",
                  pass: ["<<Poem of Joy>>\nLines", "<<a>> and <<>>"], fail: ["<<>>", "<< \n>>", "<<<>>>", "No title"])
    }

    func testCombination() throws {
        try check("combination:two_responses",
                  pass: ["Answer one.\n******\nAnswer two.", "******\nA\n******\nB\n******"],
                  fail: ["Same.\n******\n Same. ", "A\n******\n\n******\nB", "A\n******\nB\n******\nC"])
        try check("combination:repeat_prompt", #"{"prompt_to_repeat": "Write a poem about cats."}"#,
                  pass: ["  write a POEM about cats. Here it is: ..."], fail: ["Sure! Write a poem about cats.", "Write a poem about cats"])
    }

    func testStartEnd() throws {
        try check("startend:end_checker", #"{"end_phrase": "Any other questions?"}"#,
                  pass: ["Done. any other questions?\n", "\"Done. Any other questions?\""], fail: ["Any other questions? Bye.", "Any other questions"])
        try check("startend:quotation", pass: ["  \"Quoted text.\"\n", "\"\""], fail: ["\"", "'single'", "\"Open only"])
    }

    func testChangeCase() throws {
        try check("change_case:capital_word_frequency", #"{"capital_frequency": 3, "capital_relation": "at least"}"#,
                  pass: ["I LOVE NYC.", "DON'T STOP", "A, B and C"], fail: ["U.S.A. and NASA", "STATE-OF-THE-ART and NASA"])
        try check("change_case:capital_word_frequency", #"{"capital_frequency": 2, "capital_relation": "less than"}"#,
                  pass: ["Only NASA here.", "U.S.A."], fail: ["CANNOT"])
        // (langdetect itself takes "THIS IS AN ANSWER IN ENGLISH." for Tagalog: see IFEvalLanguage.)
        try check("change_case:english_capital", pass: ["HELLO WORLD, THIS IS MY ANSWER TO YOUR QUESTION ABOUT THE WEATHER TODAY."],
                  fail: ["THIS IS an answer in English.", "DAS IST EINE ANTWORT AUF DEUTSCH UND NICHT IN DER SPRACHE."])
        try check("change_case:english_lowercase", pass: ["this is an answer in english."],
                  fail: ["This is an answer in English.", "das ist eine antwort auf deutsch und nicht in der sprache."])
        try check("punctuation:no_comma", pass: ["No commas here; none at all. Only this: ，"], fail: ["One, two."])
    }

    func testABlankResponseFollowsNothing() throws {
        let i = try instruction("keywords:forbidden_words", #"{"forbidden_words": ["x"]}"#)
        XCTAssertTrue(i.isFollowed(by: "  \n"))
        let prompt = IFEvalPrompt(key: 1, prompt: "p", instructions: [i])
        XCTAssertEqual(IFEval.score(prompt, response: "  \n", mode: .strict).followed, [false])
        XCTAssertEqual(IFEval.score(prompt, response: " \n ", mode: .loose).followed, [false])
    }

    func testLooseAcceptsWhatStrictRejects() throws {
        // A leading "Sure" line before the repeated prompt, markdown bold around a title or quote,
        // and a trailing sign-off after the end phrase.
        let cases: [(String, String, String)] = [
            ("combination:repeat_prompt", #"{"prompt_to_repeat": "Write a haiku."}"#, "Sure, here it is:\nWrite a haiku. Leaves fall."),
            ("startend:quotation", "{}", "**\"A quoted answer.\"**"),
            ("startend:end_checker", #"{"end_phrase": "Is there anything else I can help with?"}"#,
             "Done. Is there anything else I can help with?\nBest regards"),
            ("detectable_format:json_format", "{}", "Here is the JSON:\n{\"a\": 1}\nHope this helps."),
            ("keywords:forbidden_words", #"{"forbidden_words": ["sure"]}"#, "Sure!\nThe answer."),
        ]
        for (id, kwargs, response) in cases {
            let prompt = IFEvalPrompt(key: 1, prompt: "p", instructions: [try instruction(id, kwargs)])
            XCTAssertEqual(IFEval.score(prompt, response: response, mode: .strict).followed, [false], id)
            XCTAssertEqual(IFEval.score(prompt, response: response, mode: .loose).followed, [true], id)
        }
        // No variant can fix a missing keyword.
        let prompt = IFEvalPrompt(key: 1, prompt: "p", instructions: [try instruction("keywords:existence", #"{"keywords": ["zebra"]}"#)])
        XCTAssertEqual(IFEval.score(prompt, response: "Sure:\nno animals\nhere", mode: .loose).followed, [false])
    }

    func testLooseVariantsAreTheOfficialEight() {
        XCTAssertEqual(IFEval.looseVariants(of: "*a*\nb\n*c*"), ["*a*\nb\n*c*", "a\nb\nc", "b\n*c*", "*a*\nb", "b", "b\n*c*".replacingStars(), "a\nb", "b"])
        XCTAssertEqual(IFEval.looseVariants(of: "one line"), ["one line", "one line", "", "", "", "", "", ""])
        XCTAssertEqual(IFEval.looseVariants(of: "a\r\nb")[2], "b")
    }

    func testBadKwargsAreErrors() {
        let bad: [(String, String, String)] = [
            ("keywords:frequency", #"{"keyword": "x", "frequency": 2, "relation": "at most"}"#, "\"less than\" or \"at least\""),
            ("length_constraints:number_words", #"{"relation": "at least"}"#, "kwarg 'num_words' is required"),
            ("keywords:letter_frequency", #"{"letter": "ab", "let_frequency": 2, "let_relation": "at least"}"#, "one character"),
            ("length_constraints:nth_paragraph_first_word", #"{"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "a"}"#, "1...2"),
            ("keywords:existence", #"{"keywords": ["a+"]}"#, "regular-expression character '+'"),
            ("punctuation:no_comma", #"{"extra": 1}"#, "unexpected kwarg(s) extra"),
            ("punctuation:semicolon", "{}", "unknown IFEval instruction id"),
        ]
        for (id, kwargs, message) in bad {
            XCTAssertThrowsError(try instruction(id, kwargs), id) { e in
                XCTAssertTrue("\(e)".contains(message), "\(e)")
            }
        }
        // Null kwargs (the Hugging Face copy lists every key) are ignored.
        XCTAssertNoThrow(try instruction("punctuation:no_comma", #"{"num_words": null, "keyword": null}"#))
    }
}

extension String {
    fileprivate func replacingStars() -> String { String(filter { $0 != "*" }) }
}
