// Package realdata loads the real recorded exchange sessions in
// ../shared/realdata for decoder tests and fuzz seeds. It is only imported
// by tests.
//
// When the folder is absent the calling test is skipped with a clear
// message, unless CANDLEWIRE_REQUIRE_REALDATA is set (CI sets it), in which
// case the test fails. CANDLEWIRE_REALDATA overrides the folder.
package realdata
