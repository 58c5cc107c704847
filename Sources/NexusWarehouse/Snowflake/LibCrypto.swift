import Foundation
import NexusCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// OpenSSL's libcrypto, loaded when a project's warehouse is Snowflake: it reads the user's
/// PEM private key (PKCS#8, encrypted or not) and signs the key-pair login's JWT (RS256).
///
/// Why libcrypto and not swift-crypto's `_CryptoExtras`: the same reasons as libpq (LibPQ.swift).
/// It is the system's OpenSSL (security updates come with the system), it reads every PEM
/// form Snowflake's docs produce with `openssl genrsa`/`pkcs8`, including encrypted keys
/// (swift-crypto reads unencrypted ones only), and it costs no build time (swift-crypto
/// compiles BoringSSL: minutes on this 2-core machine). Loaded with `dlopen`, so that only a
/// Snowflake project needs it (Debian: libssl3, present wherever curl or Python is).
final class LibCrypto: @unchecked Sendable {
    typealias NewMemBuf = @convention(c) (UnsafeRawPointer?, Int32) -> OpaquePointer?
    typealias ReadKey = @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>?, UnsafeRawPointer?, UnsafeRawPointer?) -> OpaquePointer?
    typealias FreeFn = @convention(c) (OpaquePointer?) -> Void
    typealias FreeIntFn = @convention(c) (OpaquePointer?) -> Int32
    typealias NewCtx = @convention(c) () -> OpaquePointer?
    typealias MDFn = @convention(c) () -> OpaquePointer?
    typealias SignInit = @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>?, OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
    typealias SignFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int>?, UnsafePointer<UInt8>?, Int) -> Int32
    typealias I2D = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32
    typealias SHA = @convention(c) (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?) -> UnsafeMutablePointer<UInt8>?
    typealias KeyIntFn = @convention(c) (OpaquePointer?) -> Int32
    typealias ErrGet = @convention(c) () -> UInt
    typealias ErrString = @convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void

    let newMemBuf: NewMemBuf
    let readPrivateKey: ReadKey
    let bioFree: FreeIntFn
    let keyFree: FreeFn
    let ctxNew: NewCtx
    let ctxFree: FreeFn
    let sha256MD: MDFn
    let signInit: SignInit
    let sign: SignFn
    let publicKeyDER: I2D
    let sha256: SHA
    let keyBaseID: KeyIntFn
    let errGet: ErrGet
    let errString: ErrString

    static let rsaID: Int32 = 6

    static func shared() throws -> LibCrypto {
        if let l = loaded { return l }
        lock.lock(); defer { lock.unlock() }
        if let l = loaded { return l }
        let l = try LibCrypto()
        loaded = l
        return l
    }

    nonisolated(unsafe) private static var loaded: LibCrypto?
    private static let lock = NSLock()

    private init() throws {
        var handle: UnsafeMutableRawPointer?
        for name in ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so", "libcrypto.3.dylib", "libcrypto.dylib"] {
            handle = dlopen(name, RTLD_NOW)
            if handle != nil { break }
        }
        guard let handle else {
            throw NexusError("warehouse", "a Snowflake warehouse needs OpenSSL's libcrypto to sign its key-pair login, and it is not installed (Debian/Ubuntu: apt-get install libssl3)")
        }
        func symbol<T>(_ names: [String], _ type: T.Type) throws -> T {
            for n in names { if let s = dlsym(handle, n) { return unsafeBitCast(s, to: type) } }
            throw NexusError("warehouse", "libcrypto lacks \(names[0]): it is too old (nexus needs OpenSSL 1.1.1 or later)")
        }
        newMemBuf = try symbol(["BIO_new_mem_buf"], NewMemBuf.self)
        readPrivateKey = try symbol(["PEM_read_bio_PrivateKey"], ReadKey.self)
        bioFree = try symbol(["BIO_free"], FreeIntFn.self)
        keyFree = try symbol(["EVP_PKEY_free"], FreeFn.self)
        ctxNew = try symbol(["EVP_MD_CTX_new"], NewCtx.self)
        ctxFree = try symbol(["EVP_MD_CTX_free"], FreeFn.self)
        sha256MD = try symbol(["EVP_sha256"], MDFn.self)
        signInit = try symbol(["EVP_DigestSignInit"], SignInit.self)
        sign = try symbol(["EVP_DigestSign"], SignFn.self)
        publicKeyDER = try symbol(["i2d_PUBKEY"], I2D.self)
        sha256 = try symbol(["SHA256"], SHA.self)
        keyBaseID = try symbol(["EVP_PKEY_get_base_id", "EVP_PKEY_base_id"], KeyIntFn.self)
        errGet = try symbol(["ERR_get_error"], ErrGet.self)
        errString = try symbol(["ERR_error_string_n"], ErrString.self)
    }

    /// OpenSSL's last error, for messages (and clears the error queue).
    func lastError() -> String {
        var message = ""
        while case let e = errGet(), e != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            errString(e, &buffer, buffer.count)
            if message.isEmpty { message = String(cString: buffer) }
        }
        return message
    }
}

/// An RSA private key for Snowflake's key-pair authentication, and the JWTs it signs.
public final class SnowflakeKey: @unchecked Sendable {
    let crypto: LibCrypto
    let key: OpaquePointer
    /// `SHA256:` + base64 of the SHA-256 of the public key's DER (SubjectPublicKeyInfo), as
    /// Snowflake's `DESC USER` shows it in RSA_PUBLIC_KEY_FP.
    public let fingerprint: String

    /// Reads a PEM private key; `passphrase` decrypts an encrypted one. `path` names the file
    /// in messages.
    public init(pem: Data, passphrase: String?, path: String) throws {
        let crypto = try LibCrypto.shared()
        self.crypto = crypto
        _ = crypto.lastError()
        let bio = pem.withUnsafeBytes { crypto.newMemBuf($0.baseAddress, Int32($0.count)) }
        guard let bio else { throw NexusError("warehouse", "cannot read the private key", at: SourceLocation(file: path)) }
        defer { _ = crypto.bioFree(bio) }
        // Without a callback, OpenSSL takes the last argument as the passphrase. An empty
        // one for an unencrypted key; an encrypted key without a passphrase then fails
        // instead of prompting on the terminal.
        let read: OpaquePointer? = (passphrase ?? "").withCString { crypto.readPrivateKey(bio, nil, nil, UnsafeRawPointer($0)) }
        guard let read else {
            let why = crypto.lastError()
            let hint = pem.starts(with: Array("-----BEGIN ENCRYPTED".utf8)) || why.contains("bad decrypt")
                ? (passphrase == nil ? "the key is encrypted: name the environment variable holding its passphrase in private_key_passphrase_env" : "the passphrase does not decrypt it")
                : "it is not a PEM private key (Snowflake's docs make one with `openssl genrsa 2048 | openssl pkcs8 -topk8 -inform PEM -out rsa_key.p8 -nocrypt`)"
            throw NexusError("warehouse", "cannot read the Snowflake private key: \(hint)\(why.isEmpty ? "" : " (OpenSSL: \(why))")", at: SourceLocation(file: path))
        }
        guard crypto.keyBaseID(read) == LibCrypto.rsaID else {
            crypto.keyFree(read)
            throw NexusError("warehouse", "the Snowflake private key is not an RSA key (key-pair authentication takes RSA keys of 2048 bits or more)", at: SourceLocation(file: path))
        }
        key = read
        let n = crypto.publicKeyDER(read, nil)
        var der = [UInt8](repeating: 0, count: Int(max(n, 0)))
        der.withUnsafeMutableBufferPointer { b in
            var p: UnsafeMutablePointer<UInt8>? = b.baseAddress
            _ = crypto.publicKeyDER(read, &p)
        }
        var digest = [UInt8](repeating: 0, count: 32)
        _ = crypto.sha256(der, der.count, &digest)
        fingerprint = "SHA256:" + Data(digest).base64EncodedString()
    }

    deinit { crypto.keyFree(key) }

    /// RS256 signature of `message`.
    func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let ctx = crypto.ctxNew() else { throw NexusError("warehouse", "OpenSSL could not make a signing context") }
        defer { crypto.ctxFree(ctx) }
        guard crypto.signInit(ctx, nil, crypto.sha256MD(), nil, key) == 1 else {
            throw NexusError("warehouse", "OpenSSL could not sign the Snowflake login: \(crypto.lastError())")
        }
        var length = 0
        guard crypto.sign(ctx, nil, &length, message, message.count) == 1 else {
            throw NexusError("warehouse", "OpenSSL could not sign the Snowflake login: \(crypto.lastError())")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard crypto.sign(ctx, &signature, &length, message, message.count) == 1 else {
            throw NexusError("warehouse", "OpenSSL could not sign the Snowflake login: \(crypto.lastError())")
        }
        return Array(signature.prefix(length))
    }

    /// The account part of the JWT's names: the account identifier before any `.region`
    /// suffix, upper case (Snowflake's key-pair docs).
    public static func accountName(_ account: String) -> String {
        String(account.split(separator: ".").first ?? Substring(account)).uppercased()
    }

    /// A key-pair JWT for `user` on `account`, issued at `now` (seconds), valid `lifetime`
    /// seconds (Snowflake takes at most an hour).
    public func jwt(account: String, user: String, now: Int, lifetime: Int = 3540) throws -> String {
        let who = SnowflakeKey.accountName(account) + "." + user.uppercased()
        func b64(_ d: Data) -> String {
            d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        func json(_ s: String) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes]), as: UTF8.self).dropFirst().dropLast().description
        }
        let header = b64(Data(#"{"alg":"RS256","typ":"JWT"}"#.utf8))
        let claims = b64(Data("{\"iss\":\(json(who + "." + fingerprint)),\"sub\":\(json(who)),\"iat\":\(now),\"exp\":\(now + lifetime)}".utf8))
        let signed = header + "." + claims
        return signed + "." + b64(Data(try sign(Array(signed.utf8))))
    }
}
