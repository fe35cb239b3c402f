import BurrowFrontEnds
import BurrowSandbox

/// burrow-oci's config.json reader: the input is the file's text. Besides the common
/// contract: the JSON reader's own, that what it reads it writes back to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOCIConfig(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    do throws(JSONError) {
        let value = try JSON.parse(text)
        for written in [value.text, value.indentedText] {
            guard let again = try? JSON.parse(written), again == value else {
                violation("oci-config", "JSON written back differs: \(written.prefix(200).debugDescription)")
            }
        }
    } catch {
        if error.line < 1 || error.column < 1 { violation("oci-config", "JSON error at line \(error.line), column \(error.column)") }
        checkMessage(error.description, from: "oci-config (JSON)")
    }
    do throws(UsageError) {
        let config = try OCIConfig.parse(text, bundle: "/srv/bundle")
        checkSpec(config.spec, from: "oci-config")
        for path in config.spec.restrictedPaths.masked + config.spec.restrictedPaths.readOnly { checkNormalised(path, from: "oci-config") }
        guard (try? OCIConfig.parse(text, bundle: "/srv/bundle")) == config else { violation("oci-config", "a second parse differs") }
    } catch {
        checkMessage(error.message, from: "oci-config")
    }
    return 0
}
