package status_test

import (
	"context"
	"log"
	"os/signal"
	"syscall"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/status"
	"github.com/campuspos/kiosk/device"
)

// The kiosk's wiring: Metrics' methods are the agent's hooks, and the
// Server reads the agent, its store and its devices until the kiosk stops.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := serveStatus(ctx, "/etc/campus-kiosk/kiosk.yaml"); err != nil {
		log.Print(err)
	}
}

func serveStatus(ctx context.Context, path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	metrics := status.NewMetrics()
	a, err := app.OpenWith(cfg, agent.SystemClock{}, app.Hooks{Call: metrics.ObserveCall, Order: metrics.ObserveOrder})
	if err != nil {
		return err
	}
	defer a.Close()
	devs, err := app.OpenDevices(ctx, cfg, device.Options{}, nil)
	if err != nil {
		return err
	}
	defer devs.Close()

	srv := status.New(status.Options{
		Config: cfg, Agent: a.Service, Tokens: a.Store, Devices: devs.Status,
		Metrics: metrics, Version: "1.0.0",
	})
	// Returns at once when status.listen is empty; else when ctx ends.
	return srv.ListenAndServe(ctx)
}
