package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"os/exec"
	"sync"
	"time"

	"github.com/campuspos/kiosk/ui"
)

// soundRate is the tones' sample rate: telephone quality is plenty for a
// beep and keeps each tone a few kilobytes.
const soundRate = 16000

// soundTimeout bounds one run of the sound command: a player that hangs
// must not pile up processes.
const soundTimeout = 3 * time.Second

// tone is one beep: frequency and length; a zero frequency is a pause.
type tone struct {
	hz  float64
	dur time.Duration
}

// resultTones is how each result sounds: two short high beeps for paid,
// one low long one for anything refused, a middle one for "will be
// confirmed". Distinct in pitch and rhythm, so that they are told apart
// in a noisy canteen without looking.
func resultTones(result string) []tone {
	switch result {
	case ui.ResultPaid:
		return []tone{{1760, 80 * time.Millisecond}, {0, 60 * time.Millisecond}, {1760, 80 * time.Millisecond}}
	case ui.ResultOffline, ui.ResultUnknown:
		return []tone{{880, 250 * time.Millisecond}}
	default:
		return []tone{{330, 450 * time.Millisecond}}
	}
}

// wav renders tones as a 16-bit mono PCM WAV file.
func wav(tones []tone) []byte {
	var pcm []int16
	for _, t := range tones {
		n := int(t.dur.Seconds() * soundRate)
		for i := range n {
			var v float64
			if t.hz > 0 {
				// A 5 ms ramp at both ends keeps the speaker from clicking.
				ramp := min(1, float64(i)/80, float64(n-i)/80)
				v = 0.4 * ramp * math.Sin(2*math.Pi*t.hz*float64(i)/soundRate)
			}
			pcm = append(pcm, int16(v*math.MaxInt16))
		}
	}
	var b bytes.Buffer
	size := uint32(2 * len(pcm))
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, 36+size)
	b.WriteString("WAVEfmt ")
	// fmt chunk: size 16, PCM, mono, rate, byte rate, block align, bits.
	_ = binary.Write(&b, binary.LittleEndian, struct {
		Size                  uint32
		Format, Channels      uint16
		Rate, ByteRate        uint32
		BlockAlign, BitsPerSm uint16
	}{16, 1, 1, soundRate, 2 * soundRate, 2, 16})
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, size)
	_ = binary.Write(&b, binary.LittleEndian, pcm)
	return b.Bytes()
}

// sounder plays results through the configured command, one at a time:
// a result that comes while the last still plays is skipped rather than
// queued, since a late beep would belong to the wrong student.
type sounder struct {
	ctx  context.Context
	cmd  []string
	log  *slog.Logger
	busy chan struct{}
	wg   sync.WaitGroup
}

func newSounder(ctx context.Context, cmd []string, log *slog.Logger) *sounder {
	return &sounder{ctx: ctx, cmd: cmd, log: log, busy: make(chan struct{}, 1)}
}

// play is ui.Deps.Signal: it returns at once.
func (s *sounder) play(result string) {
	select {
	case s.busy <- struct{}{}:
	default:
		return
	}
	s.wg.Go(func() {
		defer func() { <-s.busy }()
		ctx, cancel := context.WithTimeout(s.ctx, soundTimeout)
		defer cancel()
		c := exec.CommandContext(ctx, s.cmd[0], s.cmd[1:]...)
		c.Stdin = bytes.NewReader(wav(resultTones(result)))
		if out, err := c.CombinedOutput(); err != nil && s.ctx.Err() == nil {
			s.log.Warn("ui.sound_command failed", "err", err, "output", string(bytes.TrimSpace(out)))
		}
	})
}

// Wait waits for a sound still playing (its context ends it).
func (s *sounder) Wait() { s.wg.Wait() }
