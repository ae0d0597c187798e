package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// modeFlags are the field-variation flags, ways a real platform protects
// the terminal less than the simulator does by default, and --strict, the
// conformance mode that refuses request fields v2.42 does not list.
type modeFlags struct {
	strict              bool
	refundsUncapped     bool
	queryForgetsRefunds bool
	hold                sim.HoldPolicy
	duplicateReply      string
	wrongPassword       string
	// set records which hold flags were given, for check.
	set map[string]bool
}

// register adds the flags to fs; each value is checked as it is parsed,
// so that an error names its flag.
func (m *modeFlags) register(fs *flag.FlagSet) {
	m.set = map[string]bool{}
	boolean := func(name string, dst *bool) {
		fs.BoolFunc(name, "", func(v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			m.set[name], *dst = true, b
			return nil
		})
	}
	boolean("strict", &m.strict)
	boolean("refunds-uncapped", &m.refundsUncapped)
	boolean("query-forgets-refunds", &m.queryForgetsRefunds)
	value := func(name string, parse func(string) error) {
		fs.Func(name, "", func(v string) error {
			m.set[name] = true
			return parse(v)
		})
	}
	value("hold-fraction", func(v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || x < 0 || x > 1 {
			return errors.New("want a number from 0 to 1, such as 0.25")
		}
		m.hold.Fraction = x
		return nil
	})
	value("hold-for", func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("want a positive duration such as 30s or 2m")
		}
		m.hold.For = d
		return nil
	})
	value("hold-seed", func(v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return errors.New("want a whole number from 0 to 18446744073709551615")
		}
		m.hold.Seed = n
		return nil
	})
	fs.Func("duplicate-reply", "", func(v string) error {
		if v == "" {
			return errors.New("want 60045, 60070 or replay")
		}
		if err := sim.ValidateDuplicateReply(v); err != nil {
			return err
		}
		m.set["duplicate-reply"], m.duplicateReply = true, v
		return nil
	})
	fs.Func("wrong-password-retcode", "", func(v string) error {
		if err := sim.ValidateRetcode(v); err != nil {
			return err
		}
		m.set["wrong-password-retcode"], m.wrongPassword = true, v
		return nil
	})
}

// check refuses hold flags that do not make a policy.
func (m *modeFlags) check() error {
	switch {
	case m.set["hold-fraction"] && m.hold.Fraction > 0 && !m.set["hold-for"]:
		return errors.New("--hold-fraction above 0 needs --hold-for, how long a held request waits")
	case !m.set["hold-fraction"] && m.set["hold-for"]:
		return errors.New("--hold-for needs --hold-fraction, the share of requests to hold")
	case !m.set["hold-fraction"] && m.set["hold-seed"]:
		return errors.New("--hold-seed needs --hold-fraction, the share of requests to hold")
	}
	return nil
}

// apply sets on o the modes whose flags were given: a flag overrides its
// sim.yaml key and leaves the others as the file set them. The hold flags
// replace sim.yaml's hold as a whole (check makes --hold-fraction come
// with the others).
func (m *modeFlags) apply(o *sim.Options) {
	if m.set["strict"] {
		o.Strict = m.strict
	}
	if m.set["refunds-uncapped"] {
		o.RefundsUncapped = m.refundsUncapped
	}
	if m.set["query-forgets-refunds"] {
		o.QueryForgetsRefunds = m.queryForgetsRefunds
	}
	if m.set["hold-fraction"] {
		o.Hold = m.hold
	}
	if m.set["duplicate-reply"] {
		o.DuplicateReply = m.duplicateReply
	}
	if m.set["wrong-password-retcode"] {
		o.WrongPasswordRetcode = m.wrongPassword
	}
}

// String describes the field variations in force for the log, "" when
// none is; serve reports --strict on its own line, from the options.
func (m *modeFlags) String() string {
	var on []string
	if m.refundsUncapped {
		on = append(on, "refunds uncapped")
	}
	if m.queryForgetsRefunds {
		on = append(on, "pay.query forgets refunds")
	}
	if m.hold.Fraction > 0 {
		on = append(on, fmt.Sprintf("holding %g of pays and refunds for %s (seed %d)", m.hold.Fraction, m.hold.For, m.hold.Seed))
	}
	if m.duplicateReply != "" {
		on = append(on, "reused order_no answered with "+m.duplicateReply)
	}
	if m.wrongPassword != "" {
		on = append(on, "wrong card password answered with "+m.wrongPassword)
	}
	return strings.Join(on, "; ")
}
