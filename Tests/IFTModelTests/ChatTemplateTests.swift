import Foundation
import IFTCore
import XCTest

@testable import IFTModel

final class ChatTemplateTests: XCTestCase {
    func render(_ source: String, _ context: [String: TemplateValue] = [:], file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            return try ChatTemplate(source: source).render(context: context)
        } catch {
            XCTFail("\(source.debugDescription): \(error)", file: file, line: line)
            return nil
        }
    }

    /// Expected outputs from Jinja2 3.1 (trim_blocks, lstrip_blocks, as transformers sets it up).
    func testExpressionsLikeJinja() {
        let d: TemplateValue = ["a": 1, "k": 2]
        let cases: [(String, String)] = [
            ("{% for i in range(3) %}{% if i == 0 %}{% set x = 'a' %}{% endif %}[{{ x }}]{% endfor %}[{{ x }}]", "[a][][][]"),
            ("{% set x = 1 %}{% for i in range(2) %}{{ x }}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}", "12121"),
            ("{{ u ~ 'a' }}", "a"),
            ("{% for x in u %}x{% endfor %}ok", "ok"),
            ("{{ [1,'a',none,true,1.5] }}", "[1, 'a', None, True, 1.5]"),
            ("{{ {'a':1} }}", "{'a': 1}"),
            ("{{ none }}|{{ 1e20 }}|{{ 0.1+0.2 }}|{{ 10/4 }}|{{ 2**10 }}|{{ 7//-2 }}|{{ -7 % 3 }}|{{ 7.5 % 2 }}",
             "None|1e+20|0.30000000000000004|2.5|1024|-4|2|1.5"),
            ("{{ d.missing }}|{{ d['missing'] is defined }}", "|False"),
            ("{{ 'abc' * 2 }}", "abcabc"),
            ("{{ 1 == 1.0 }}{{ true == 1 }}", "TrueTrue"),
            ("{{ 'a' < 'b' }}{{ [1,2] < [1,3] }}", "TrueTrue"),
            ("{{ 'x' in 'xyz' }}{{ 'k' in d }}{{ 3 not in [1,2] }}", "TrueTrueTrue"),
            ("{{ ' a b '.split() }}{{ 'a,b'.split(',') }}", "['a', 'b']['a', 'b']"),
            ("{{ 'Hello World'.title() }}{{ 'hELLO'.capitalize() }}", "Hello WorldHello"),
            ("{{ d | tojson }}|{{ {'a': {'b': [1,2]}} | tojson(indent=2) }}|{{ 'é' | tojson(true) }}", "{\"a\": 1, \"k\": 2}|{\n  \"a\": {\n    \"b\": [\n      1,\n      2\n    ]\n  }\n}|\"\\u00e9\""),
            ("{{ [1, 'é', none, 'q\"\\n'] | tojson }}", "[1, \"é\", null, \"q\\\"\\n\"]"),
            ("{{ 'abc'[::-1] }}{{ [1,2,3][1:] }}{{ [1,2,3][-1] }}", "cba[2, 3]3"),
            ("{% macro m(a, b='x') %}<{{ a }}{{ b }}>{% endmacro %}{{ m(1) }}{{ m(2, b='y') }}", "<1x><2y>"),
            ("  {% if true %}\n  yes\n  {% endif %}\n", "  yes\n"),
            ("a\n  {{ 'v' }}\n  {# c #}\nb", "a\n  v\nb"),
            ("{% for a, b in [[1,2],[3,4]] %}{{ a }}{{ b }}{% endfor %}", "1234"),
            ("{{ (1, 2) }}", "(1, 2)"),
            ("{{ 'a' 'b' }}", "ab"),
            ("{{ loop }}", ""),
            ("{% for x in [1,2,3] %}{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% endfor %}", "13"),
            ("{% for x in [1,2,3] %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}", "1"),
            ("{{ 3 | string + 'a' }}", "3a"),
            ("{{ 'x' if false }}|", "|"),
            ("{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}", "TrueFalse"),
            ("{{ -2 | abs }}", "2"),
            ("{{ not 1 == 2 }}", "True"),
            ("{{ d.items() | list }}", "[('a', 1), ('k', 2)]"),
            ("{{ 'a' is string }}{{ 1 is number }}{{ none is none }}", "TrueTrueTrue"),
            ("{{ x | default('dflt') }}{{ '' | default('e', true) }}", "dflte"),
            ("{{ [3,1,2] | sort }}{{ ['b','a'] | join }}", "[1, 2, 3]ba"),
            ("{{ 'abc' | length }}{{ d | length }}", "32"),
            ("{{ 1.0 }}{{ 100.0 }}{{ 1e16 }}{{ 1e-5 }}{{ 3.0|int }}{{ '7'|int + 1 }}", "1.0100.01e+161e-0538"),
            ("{{ ' x ' | trim }}|{{ 'xxhixx' | trim('x') }}", "x|hi"),
            ("{{ true and 'a' }}{{ false or 0 }}{{ none or 'z' }}", "a0z"),
            ("{{ 'a\\nb' }}", "a\nb"),
            ("{{ \"it's\" }}", "it's"),
            ("{{ ['it\\'s', \"q\\\"\"] }}", "[\"it's\", 'q\"']"),
            ("{{ d }}{{ d.keys() | list }}", "{'a': 1, 'k': 2}['a', 'k']"),
            ("{{ [1,2] + [3] }}", "[1, 2, 3]"),
            ("x  {%- if true -%}  y  {%- endif %}  z", "xy  z"),
            ("{%+ if true %}a{% endif +%}\nb", "a\nb"),
            ("{% set ns = namespace(a=1) %}{% for i in range(3) %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}", "4"),
            ("{{ 'abc'.upper() }}{{ 'a-b'.replace('-', '+') }}{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x','c')) }}",
             "ABCa+bTrueTrue"),
            ("{{ [1,2,3] | first }}{{ [1,2,3] | last }}{{ 'abc' | first }}", "13a"),
            ("{{ {'b':1,'a':2} | items | list }}{{ {'b':1,'a':2} | dictsort }}", "[('b', 1), ('a', 2)][('a', 2), ('b', 1)]"),
            ("{{ [{'r':'a'},{'r':'b'}] | map(attribute='r') | list }}{{ [{'r':'a'},{'x':'b'}] | selectattr('r', 'defined') | list }}",
             "['a', 'b'][{'r': 'a'}]"),
            ("{{ ' \n x' | indent(2) }}", " \n   x"),
            ("{{ 1 if none }}|{{ none is not none }}", "|False"),
            ("{% if u is not defined %}ud{% endif %}", "ud"),
            ("{% for x in [] %}a{% else %}empty{% endfor %}", "empty"),
            ("{% for x in [1,2,3,4] if x is even %}{{ loop.index }}:{{ x }}{{ ',' if not loop.last }}{% endfor %}", "1:2,2:4"),
            ("{% for x in 'ab' %}{{ loop.revindex0 }}{{ loop.previtem is defined }}{{ loop.cycle('o', 'e') }}{% endfor %}", "1Falseo0Truee"),
            ("{% set x %}in{{ 1 + 1 }}{% endset %}[{{ x }}]", "[in2]"),
            ("{% set a, b = 1, 2 %}{{ a }}{{ b }}", "12"),
            ("{{ messages[0]['role'] }}{{ messages[0].content }}{{ messages | length }}", "userhi1"),
            ("{% generation %}g{% endgeneration %}", "g"),
            ("{{ 'tools' in d or d.k == 2 }}", "True"),
            ("{#- only a comment -#}\n  x", "x"),
            ("{{ '\\u00e9\\x41' }}", "éA"),
            ("{{ {'b': 1}.get('b') }}{{ {'b': 1}.get('c', 'z') }}{{ {'b': 1}.get('c') }}", "1zNone"),
            ("{{ 'a b'.split(' ', 1) }}{{ '  a  b  '.split(none, 1) }}", "['a', 'b']['a', 'b  ']"),
            ("{{ '%d'|length }}{{ 'xyx'.count('x') }}{{ 'abc'.find('c') }}{{ 'abc'.find('z') }}", "222-1"),
            ("{{ 'hello world' | title }}{{ 'x-ray (a)'|title }}", "Hello WorldX-Ray (A)"),
            ("{{ [1, 2, 3] | sum }}{{ [1, 5, 3] | max }}{{ [4, 2] | min }}{{ [1, 1, 2] | unique | list }}", "652[1, 2]"),
            ("{{ 2.5 | round }}{{ 2.45 | round(1, 'floor') }}{{ 7 is divisibleby 7 }}{{ 3 is odd }}", "2.02.4TrueTrue"),
        ]
        let ctx: [String: TemplateValue] = ["d": d, "messages": [["role": "user", "content": "hi"]]]
        for (src, want) in cases {
            XCTAssertEqual(render(src, ctx), want, src.debugDescription)
        }
    }

    func testNewlinesAreNormalizedAndTheLastOneDropped() {
        XCTAssertEqual(render("a\r\nb\rc\n"), "a\nb\nc")
        XCTAssertEqual(render("a\n\n"), "a\n")
        XCTAssertEqual(render("{% if true %}\r\nx{% endif %}"), "x")  // trim_blocks after normalizing
    }

    func testErrorsNameTheOffset() {
        func check(_ src: String, _ offset: Int, _ words: [String], render ctx: [String: TemplateValue]? = nil,
                   file: StaticString = #filePath, line: UInt = #line) {
            do {
                let t = try ChatTemplate(source: src, name: "t.jinja")
                _ = try t.render(context: ctx ?? [:])
                XCTFail("no error for \(src.debugDescription)", file: file, line: line)
            } catch let e as IFTError {
                guard case .file(let path, let loc, let msg) = e else { return XCTFail("\(e)", file: file, line: line) }
                XCTAssertEqual(path, "t.jinja", file: file, line: line)
                XCTAssertTrue(loc.hasPrefix("offset \(offset) "), "\(loc) for \(src.debugDescription): \(msg)", file: file, line: line)
                for w in words { XCTAssertTrue(msg.contains(w), "'\(w)' not in \(msg)", file: file, line: line) }
            } catch {
                XCTFail("\(error)", file: file, line: line)
            }
        }
        check("ab{% include 'x' %}", 2, ["unsupported statement", "include"])
        check("{% for x in y %}", 0, ["never closed", "endfor"])
        check("x{% endif %}", 1, ["endif"])
        check("{{ 1 + }}", 7, ["expected an expression"])
        check("{{ x | frobnicate }}", 5, ["unsupported filter 'frobnicate'"])
        check("{{ 'abc }}", 3, ["unterminated string"])
        check("{{ x", 0, ["unterminated tag"])
        check("{% if x is foo %}{% endif %}", 8, ["unsupported test 'foo'"], render: ["x": 1])
        check("line\n  {{ raise_exception('bad role') }}", 10, ["bad role"])
        check("{{ u.x }}", 4, ["'u' is undefined"])
        check("{{ 'a' + 1 }}", 7, ["unsupported operand", "str", "int"])
        check("{{ 1 / 0 }}", 5, ["division by zero"])
        check("{% for x in 3 %}{% endfor %}", 0, ["not iterable"])
        check("{{ x y }}", 5, ["expected '}}'"])
        check("{% break %}", 0, ["outside a for loop"])
        check("{{ 'a'.nope() }}", 6, ["no method 'nope'"])
    }

    func testErrorLocationCountsLinesAndColumns() {
        XCTAssertThrowsError(try ChatTemplate(source: "ab\ncd {% nope %}")) { e in
            XCTAssertTrue("\(e)".contains("offset 6 (line 2, column 4)"), "\(e)")
        }
    }

    func testChatMLRendering() throws {
        let chatml = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
            + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
        let t = try ChatTemplate(source: chatml)
        let out = try t.render(messages: [.system("S"), .user("U")], addGenerationPrompt: true)
        XCTAssertEqual(out, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(
            try t.render(messages: [.user("U")]), "<|im_start|>user\nU<|im_end|>\n")
        let withTokens = try ChatTemplate(source: "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}{{ extra }}")
        XCTAssertEqual(
            try withTokens.render(messages: [.user("x")], bosToken: "<s>", eosToken: "</s>", variables: ["extra": 5]),
            "<s>x</s>5")
    }

    // MARK: Against the transformers reference (no model needed: the fixture holds the templates)

    func testTemplatesRenderLikeTransformers() throws {
        let f = try TokenizerFixture.load()
        var ok = 0
        for c in f.chats {
            let t = try ChatTemplate(source: f.templates[c.template]!, name: c.template)
            let out = try t.render(
                messages: c.messages, addGenerationPrompt: c.addGenerationPrompt, bosToken: f.bosToken, eosToken: f.eosToken)
            XCTAssertEqual(out, c.text, "\(c.template), \(c.messages.count) messages, generation prompt \(c.addGenerationPrompt)")
            if out == c.text { ok += 1 }
        }
        print("chat templates: \(ok)/\(f.chats.count) renderings byte-identical to transformers")
        XCTAssertEqual(Set(f.chats.map(\.template)), ["smollm2", "chatml-ns", "llama3-like", "expressions"])
    }

    func testSmolLM2TemplateFromTheGGUF() throws {
        let tok = try SmolLM2.tokenizer()
        let t = try ChatTemplate(source: XCTUnwrap(tok.chatTemplate), name: "SmolLM2")
        let text = try t.render(messages: [.user("Hi!")], addGenerationPrompt: true)
        XCTAssertEqual(
            text,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                + "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n")
        let ids = tok.encode(text, parseSpecial: true)
        XCTAssertEqual(ids.first, tok.bosID)
        XCTAssertEqual(ids.filter { $0 == tok.eosID }.count, 2)
        XCTAssertEqual(tok.decode(ids), text)
    }
}
