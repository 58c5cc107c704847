#ifndef NEXUS_CSQLITE_H
#define NEXUS_CSQLITE_H
// SQLite as vendored by vapor/sqlite-nio: a current release built with the options SQLite
// recommends (no memory statistics, lookaside allocator on). Debian's build leaves the
// lookaside allocator out and counts every allocation; reading and writing tens of millions
// of rows took twice the CPU on that side. sqlite-nio prefixes its symbols so that it never
// clashes with a system SQLite; these wrappers give them their usual names for Swift.
#include <sqlite_nio_sqlite3.h>

static inline int sqlite3_bind_double(sqlite3_stmt* a0, int a1, double a2) { return sqlite_nio_sqlite3_bind_double(a0, a1, a2); }
static inline int sqlite3_bind_int64(sqlite3_stmt* a0, int a1, sqlite3_int64 a2) { return sqlite_nio_sqlite3_bind_int64(a0, a1, a2); }
static inline int sqlite3_bind_text64(sqlite3_stmt* a0, int a1, const char* a2, sqlite3_uint64 a3, void(* a4)(void*), unsigned char a5) { return sqlite_nio_sqlite3_bind_text64(a0, a1, a2, a3, a4, a5); }
static inline int sqlite3_bind_null(sqlite3_stmt* a0, int a1) { return sqlite_nio_sqlite3_bind_null(a0, a1); }
static inline int sqlite3_bind_text(sqlite3_stmt* a0, int a1, const char* a2, int a3, void(* a4)(void*)) { return sqlite_nio_sqlite3_bind_text(a0, a1, a2, a3, a4); }
static inline int sqlite3_busy_timeout(sqlite3* a0, int a1) { return sqlite_nio_sqlite3_busy_timeout(a0, a1); }
static inline int sqlite3_changes(sqlite3* a0) { return sqlite_nio_sqlite3_changes(a0); }
static inline int sqlite3_close_v2(sqlite3* a0) { return sqlite_nio_sqlite3_close_v2(a0); }
static inline int sqlite3_column_bytes(sqlite3_stmt* a0, int a1) { return sqlite_nio_sqlite3_column_bytes(a0, a1); }
static inline int sqlite3_column_count(sqlite3_stmt * a0) { return sqlite_nio_sqlite3_column_count(a0); }
static inline const char *sqlite3_column_decltype(sqlite3_stmt* a0, int a1) { return sqlite_nio_sqlite3_column_decltype(a0, a1); }
static inline double sqlite3_column_double(sqlite3_stmt* a0, int a1) { return sqlite_nio_sqlite3_column_double(a0, a1); }
static inline sqlite3_int64 sqlite3_column_int64(sqlite3_stmt* a0, int a1) { return sqlite_nio_sqlite3_column_int64(a0, a1); }
static inline const char *sqlite3_column_name(sqlite3_stmt* a0, int a1) { return sqlite_nio_sqlite3_column_name(a0, a1); }
static inline const unsigned char *sqlite3_column_text(sqlite3_stmt* a0, int a1) { return sqlite_nio_sqlite3_column_text(a0, a1); }
static inline int sqlite3_column_type(sqlite3_stmt* a0, int a1) { return sqlite_nio_sqlite3_column_type(a0, a1); }
static inline sqlite3_value *sqlite3_column_value(sqlite3_stmt* a0, int a1) { return sqlite_nio_sqlite3_column_value(a0, a1); }
static inline int sqlite3_create_function_v2(sqlite3 * a0, const char * a1, int a2, int a3, void * a4, void (* a5)(sqlite3_context*,int,sqlite3_value**), void (* a6)(sqlite3_context*,int,sqlite3_value**), void (* a7)(sqlite3_context*), void(* a8)(void*)) { return sqlite_nio_sqlite3_create_function_v2(a0, a1, a2, a3, a4, a5, a6, a7, a8); }
static inline const char *sqlite3_errmsg(sqlite3* a0) { return sqlite_nio_sqlite3_errmsg(a0); }
static inline int sqlite3_exec(sqlite3 * a0, const char * a1, int (* a2)(void*,int,char**,char**), void * a3, char ** a4) { return sqlite_nio_sqlite3_exec(a0, a1, a2, a3, a4); }
static inline int sqlite3_finalize(sqlite3_stmt * a0) { return sqlite_nio_sqlite3_finalize(a0); }
static inline void sqlite3_free(void* a0) { sqlite_nio_sqlite3_free(a0); }
static inline const char *sqlite3_libversion(void) { return sqlite_nio_sqlite3_libversion(); }
static inline int sqlite3_open_v2(const char * a0, sqlite3 ** a1, int a2, const char * a3) { return sqlite_nio_sqlite3_open_v2(a0, a1, a2, a3); }
static inline int sqlite3_prepare_v2(sqlite3 * a0, const char * a1, int a2, sqlite3_stmt ** a3, const char ** a4) { return sqlite_nio_sqlite3_prepare_v2(a0, a1, a2, a3, a4); }
static inline int sqlite3_reset(sqlite3_stmt * a0) { return sqlite_nio_sqlite3_reset(a0); }
static inline void sqlite3_result_double(sqlite3_context* a0, double a1) { sqlite_nio_sqlite3_result_double(a0, a1); }
static inline void sqlite3_result_error(sqlite3_context* a0, const char* a1, int a2) { sqlite_nio_sqlite3_result_error(a0, a1, a2); }
static inline void sqlite3_result_int64(sqlite3_context* a0, sqlite3_int64 a1) { sqlite_nio_sqlite3_result_int64(a0, a1); }
static inline void sqlite3_result_null(sqlite3_context* a0) { sqlite_nio_sqlite3_result_null(a0); }
static inline void sqlite3_result_subtype(sqlite3_context* a0, unsigned int a1) { sqlite_nio_sqlite3_result_subtype(a0, a1); }
static inline void sqlite3_result_text(sqlite3_context* a0, const char* a1, int a2, void(* a3)(void*)) { sqlite_nio_sqlite3_result_text(a0, a1, a2, a3); }
static inline int sqlite3_step(sqlite3_stmt* a0) { return sqlite_nio_sqlite3_step(a0); }
static inline void *sqlite3_user_data(sqlite3_context* a0) { return sqlite_nio_sqlite3_user_data(a0); }
static inline int sqlite3_value_bytes(sqlite3_value* a0) { return sqlite_nio_sqlite3_value_bytes(a0); }
static inline double sqlite3_value_double(sqlite3_value* a0) { return sqlite_nio_sqlite3_value_double(a0); }
static inline sqlite3_int64 sqlite3_value_int64(sqlite3_value* a0) { return sqlite_nio_sqlite3_value_int64(a0); }
static inline unsigned int sqlite3_value_subtype(sqlite3_value* a0) { return sqlite_nio_sqlite3_value_subtype(a0); }
static inline const unsigned char *sqlite3_value_text(sqlite3_value* a0) { return sqlite_nio_sqlite3_value_text(a0); }
static inline int sqlite3_value_numeric_type(sqlite3_value* a0) { return sqlite_nio_sqlite3_value_numeric_type(a0); }
static inline int sqlite3_value_type(sqlite3_value* a0) { return sqlite_nio_sqlite3_value_type(a0); }

#endif
