import XCTest
final class IFTCoreTestsPlaceholder: XCTestCase { func testNothing() {} }
