// Package onecardtest helps tests talk to the platform simulator
// (agent/onecard/sim), in the spirit of net/http/httptest: a started
// strict simulator with a client configured for it (NewTestPair), the
// repository's TEST-ONLY keys (TestKeys), a clock that moves only when told
// (Clock), and a kiosk configuration for a simulator (WriteKioskConfig).
// Production code never imports it: it links the testing package.
package onecardtest
