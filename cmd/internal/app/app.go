// Package app wires a loaded configuration into a running terminal agent:
// the store, the protocol client, the token policy and the payment flow.
// The kiosk and kioskctl share it so that they behave alike.
package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/offline"
)

// App is a wired agent. Close releases the store.
type App struct {
	Config *config.Config
	// ConfigErr is why Config is nil, for commands that run without one.
	ConfigErr error
	Store     *offline.Store
	Client    *onecard.Client
	Service   *agent.Service
}

// ErrInUse says the store is held by another process (a running kiosk).
var ErrInUse = errors.New("the terminal database is in use by another process (is the kiosk running? `kioskctl status` asks it over its status endpoint)")

// Hooks let a long-running program watch the agent (logs, metrics)
// without the agent knowing about either. Zero hooks watch nothing.
type Hooks struct {
	// Call is called after every platform call (onecard.Config.Observe).
	Call func(onecard.CallInfo)
	// Order is called after every order write (agent.ObserveJournal).
	Order func(context.Context, agent.OrderChange)
	// Password is called after every card password check
	// (agent.Options.OnPasswordCheck).
	Password func(agent.PasswordCheck)
}

// Open builds the agent described by cfg.
func Open(cfg *config.Config, clock agent.Clock) (*App, error) {
	return OpenWith(cfg, clock, Hooks{})
}

// OpenWith builds the agent described by cfg, watched by h.
func OpenWith(cfg *config.Config, clock agent.Clock, h Hooks) (*App, error) {
	cipher, err := onecard.NewCipherKey(cfg.Platform.Secrets.DESKey())
	if err != nil {
		return nil, &config.Error{File: cfg.File, Field: "platform.app_secret", Err: err}
	}
	client, err := onecard.New(onecard.Config{
		URL:         cfg.Platform.URL,
		BillURL:     cfg.Platform.BillURL,
		AppKey:      cfg.Platform.AppKey,
		Cipher:      cipher,
		PrivateKey:  cfg.Platform.Secrets.PrivateKey(),
		PlatformKey: cfg.Platform.PublicKey,
		Location:    cfg.Platform.Location,
		HTTPClient:  onecard.NewHTTPClient(cfg.Platform.Timeout, cfg.Platform.RootCAs),
		Now:         clock.Now,
		Observe:     h.Call,
	})
	if err != nil {
		return nil, &config.Error{File: cfg.File, Field: "platform", Err: err}
	}
	store, err := offline.Open(cfg.Store.Path)
	if errors.Is(err, offline.ErrLocked) {
		return nil, fmt.Errorf("%s: %w", cfg.Store.Path, ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("store.path: %w", err)
	}
	platform := agent.NewPlatform(client, store, clock)
	var journal agent.Journal = store
	if h.Order != nil {
		journal = agent.ObserveJournal(store, h.Order)
	}
	opts := ServiceOptions(cfg, clock)
	opts.OnPasswordCheck = h.Password
	return &App{
		Config:  cfg,
		Store:   store,
		Client:  client,
		Service: agent.NewService(platform, journal, opts),
	}, nil
}

// Close releases the store.
func (a *App) Close() error { return a.Store.Close() }

// ServiceOptions translates the configuration into the payment flow's
// options.
func ServiceOptions(cfg *config.Config, clock agent.Clock) agent.Options {
	return agent.Options{
		Terminal: agent.Terminal{TermID: cfg.Terminal.TermID, MercAcc: cfg.Terminal.MercAcc, AccType: cfg.Terminal.AccType},
		Offline: agent.OfflinePolicy{
			Enabled: cfg.Offline.Enabled, MaxAmount: cfg.Offline.MaxAmount, MaxTotal: cfg.Offline.MaxTotal,
			MaxCount: cfg.Offline.MaxCount, MaxPerCardDay: cfg.Offline.MaxPerCardDay, CardMaxAge: cfg.Offline.CardMaxAge,
		},
		Reconcile: agent.ReconcilePolicy{
			Interval: cfg.Reconcile.Interval, MaxInterval: cfg.Reconcile.MaxInterval,
			GiveUpAfter: cfg.Reconcile.GiveUpAfter, RequestTimeout: cfg.Platform.Timeout,
			ReviewOrphans: cfg.Reconcile.Orphans == config.OrphansReview,
		},
		// The agent takes an At of 0 for "not set" and settles at its
		// default, 02:30: settlement.at 00:00 goes as 1ns past midnight.
		Settlement: agent.SettlementPolicy{
			Enabled: cfg.Settlement.Enabled, At: cfg.Settlement.At, Jitter: cfg.Settlement.Jitter,
			Encrypted: cfg.Settlement.Encrypted, CatchUpDays: cfg.Settlement.CatchUpDays,
			Retry: cfg.Settlement.Retry, MaxRetry: cfg.Settlement.MaxRetry,
		},
		Password: agent.PasswordPolicy{
			Mode: agent.PasswordMode(cfg.Payment.Password), Above: cfg.Payment.PasswordAbove,
			MaxTries: cfg.Payment.PasswordMaxTries, Lock: cfg.Payment.PasswordLock,
			WrongRetcodes: cfg.Payment.PasswordRetcodes,
		},
		Location: cfg.Platform.Location,
		Clock:    clock,
	}
}
