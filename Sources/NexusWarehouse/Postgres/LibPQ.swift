import Foundation
import NexusCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// PostgreSQL's own client library, libpq, loaded when a project's warehouse is PostgreSQL.
///
/// Why libpq and not a Swift driver (postgres-nio): nexus's warehouse calls are synchronous,
/// as libpq's are (postgres-nio is built on event loops and futures); libpq has COPY, single-
/// row streaming and every authentication and TLS mode PostgreSQL has; and it costs no build
/// time (postgres-nio and its NIO stack added about 5 minutes to a cold debug build on this
/// 2-core machine). It is loaded with `dlopen` instead of linked, so that building nexus and
/// running it on SQLite need neither libpq's headers nor the library: only a PostgreSQL
/// project needs `libpq5` (Debian), and says so if it is missing.
final class LibPQ: @unchecked Sendable {
    typealias ConnectParams = @convention(c) (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> OpaquePointer?
    typealias ConnFn = @convention(c) (OpaquePointer?) -> Int32
    typealias ConnStringFn = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?
    typealias FinishFn = @convention(c) (OpaquePointer?) -> Void
    typealias ExecFn = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
    typealias ExecParamsFn = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafePointer<UInt32>?,
                                             UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> OpaquePointer?
    typealias SendParamsFn = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafePointer<UInt32>?,
                                             UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> Int32
    typealias GetResultFn = @convention(c) (OpaquePointer?) -> OpaquePointer?
    typealias ResultIntFn = @convention(c) (OpaquePointer?) -> Int32
    typealias ResultStringFn = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?
    typealias ResultFieldFn = @convention(c) (OpaquePointer?, Int32) -> UnsafeMutablePointer<CChar>?
    typealias ResultTypeFn = @convention(c) (OpaquePointer?, Int32) -> UInt32
    typealias ValueFn = @convention(c) (OpaquePointer?, Int32, Int32) -> UnsafeMutablePointer<CChar>?
    typealias ValueIntFn = @convention(c) (OpaquePointer?, Int32, Int32) -> Int32
    typealias ClearFn = @convention(c) (OpaquePointer?) -> Void
    typealias PutCopyDataFn = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32
    typealias PutCopyEndFn = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32
    typealias GetCopyDataFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, Int32) -> Int32
    typealias FreememFn = @convention(c) (UnsafeMutableRawPointer?) -> Void
    typealias NoticeProcessor = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void
    typealias SetNoticeFn = @convention(c) (OpaquePointer?, NoticeProcessor?, UnsafeMutableRawPointer?) -> NoticeProcessor?

    let connectdbParams: ConnectParams
    let status: ConnFn
    let errorMessage: ConnStringFn
    let finish: FinishFn
    let exec: ExecFn
    let execParams: ExecParamsFn
    let sendQueryParams: SendParamsFn
    let setSingleRowMode: ConnFn
    let getResult: GetResultFn
    let resultStatus: ResultIntFn
    let resultErrorMessage: ResultStringFn
    let resultErrorField: ResultFieldFn
    let ntuples: ResultIntFn
    let nfields: ResultIntFn
    let fname: ResultFieldFn
    let ftype: ResultTypeFn
    let cmdTuples: ResultStringFn
    let getvalue: ValueFn
    let getlength: ValueIntFn
    let getisnull: ValueIntFn
    let clear: ClearFn
    let putCopyData: PutCopyDataFn
    let putCopyEnd: PutCopyEndFn
    let setNoticeProcessor: SetNoticeFn
    let getCopyData: GetCopyDataFn
    let freemem: FreememFn

    // ExecStatusType and ConnStatusType values (libpq-fe.h).
    static let commandOK: Int32 = 1, tuplesOK: Int32 = 2, copyOut: Int32 = 3, copyIn: Int32 = 4, singleTuple: Int32 = 9
    static let connectionOK: Int32 = 0

    /// The library, loaded once; an error says how to install it.
    static func shared() throws -> LibPQ {
        if let l = loaded { return l }
        lock.lock(); defer { lock.unlock() }
        if let l = loaded { return l }
        let l = try LibPQ()
        loaded = l
        return l
    }

    nonisolated(unsafe) private static var loaded: LibPQ?
    private static let lock = NSLock()

    private init() throws {
        var handle: UnsafeMutableRawPointer?
        for name in ["libpq.so.5", "libpq.so", "libpq.5.dylib", "libpq.dylib"] {
            handle = dlopen(name, RTLD_NOW)
            if handle != nil { break }
        }
        guard let handle else {
            throw NexusError("warehouse", "a PostgreSQL warehouse needs PostgreSQL's client library libpq, which is not installed (Debian/Ubuntu: apt-get install libpq5)")
        }
        func symbol<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let s = dlsym(handle, name) else { throw NexusError("warehouse", "libpq lacks \(name): it is too old (nexus needs libpq 10 or later)") }
            return unsafeBitCast(s, to: type)
        }
        connectdbParams = try symbol("PQconnectdbParams", ConnectParams.self)
        status = try symbol("PQstatus", ConnFn.self)
        errorMessage = try symbol("PQerrorMessage", ConnStringFn.self)
        finish = try symbol("PQfinish", FinishFn.self)
        exec = try symbol("PQexec", ExecFn.self)
        execParams = try symbol("PQexecParams", ExecParamsFn.self)
        sendQueryParams = try symbol("PQsendQueryParams", SendParamsFn.self)
        setSingleRowMode = try symbol("PQsetSingleRowMode", ConnFn.self)
        getResult = try symbol("PQgetResult", GetResultFn.self)
        resultStatus = try symbol("PQresultStatus", ResultIntFn.self)
        resultErrorMessage = try symbol("PQresultErrorMessage", ResultStringFn.self)
        resultErrorField = try symbol("PQresultErrorField", ResultFieldFn.self)
        ntuples = try symbol("PQntuples", ResultIntFn.self)
        nfields = try symbol("PQnfields", ResultIntFn.self)
        fname = try symbol("PQfname", ResultFieldFn.self)
        ftype = try symbol("PQftype", ResultTypeFn.self)
        cmdTuples = try symbol("PQcmdTuples", ResultStringFn.self)
        getvalue = try symbol("PQgetvalue", ValueFn.self)
        getlength = try symbol("PQgetlength", ValueIntFn.self)
        getisnull = try symbol("PQgetisnull", ValueIntFn.self)
        clear = try symbol("PQclear", ClearFn.self)
        putCopyData = try symbol("PQputCopyData", PutCopyDataFn.self)
        putCopyEnd = try symbol("PQputCopyEnd", PutCopyEndFn.self)
        setNoticeProcessor = try symbol("PQsetNoticeProcessor", SetNoticeFn.self)
        getCopyData = try symbol("PQgetCopyData", GetCopyDataFn.self)
        freemem = try symbol("PQfreemem", FreememFn.self)
    }
}
