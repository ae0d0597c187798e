package agent

import "context"

// What screens and technicians read of the terminal's state, so that they
// need the Service alone, not its journal or platform.

// UnfinishedCount is the number of orders not yet final.
func (s *Service) UnfinishedCount(ctx context.Context) (int, error) {
	return s.journal.UnfinishedCount(ctx)
}

// StateCounts counts the journal's orders by state.
func (s *Service) StateCounts(ctx context.Context) (map[OrderState]int, error) {
	return s.journal.StateCounts(ctx)
}

// OfflineExposure is what is accepted offline and not yet settled, and
// what account was accepted offline for on the platform day of the
// terminal's clock ("" for none).
func (s *Service) OfflineExposure(ctx context.Context, account string) (OfflineExposure, error) {
	return s.journal.OfflineExposure(ctx, account, s.day(s.now()))
}

// TokenInfo describes the access token in use, without its value.
func (s *Service) TokenInfo(ctx context.Context) (TokenInfo, error) {
	return s.platform.Tokens().Info(ctx)
}

// Today is the platform day (yyyyMMdd) of the terminal's clock.
func (s *Service) Today() string { return s.day(s.now()) }
