// Package clocale makes a C locale read as English before the UI library
// reads it. Imported for its side effect by the kiosk, before anything of
// Fyne's: Fyne parses the system locale while its packages initialize,
// before main runs, and takes "C" of LANG=C.UTF-8 (the locale a systemd
// unit gives a service) for a language, logging "Error parsing user locale
// C" at every start, which a technician reading the journal takes for a
// fault. Go initializes packages in import-path order among those whose
// imports are ready (the language specification, since Go 1.21): this
// one imports only os and strings, and sorts before Fyne's locale library
// (github.com/jeandeaual/go-locale), so its init runs first.
package clocale

import (
	"os"
	"strings"
)

func init() {
	// An error here (an environment that cannot be set) leaves Fyne's
	// log line, nothing worse.
	_ = setCLocaleLanguage(os.Getenv, os.Setenv)
}

// setCLocaleLanguage sets LANGUAGE=en under a C locale. Fyne reads the
// system locale only for its own few texts (the kiosk's language is
// ui.language's); LANGUAGE, which locale readers consult when the locale
// is not plain C, then says English. It is set only when nothing set it.
func setCLocaleLanguage(getenv func(string) string, setenv func(key, value string) error) error {
	if getenv("LANGUAGE") != "" {
		return nil
	}
	locale := ""
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if locale = getenv(name); locale != "" {
			break
		}
	}
	if locale == "C" || locale == "POSIX" || strings.HasPrefix(locale, "C.") || strings.HasPrefix(locale, "POSIX.") {
		return setenv("LANGUAGE", "en")
	}
	return nil
}
