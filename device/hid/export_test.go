package hid

// The external tests (package hid_test, which imports hidtest and so
// cannot be part of hid) reach these through here.
var Find = find

const DefaultMaxLen = defaultMaxLen
