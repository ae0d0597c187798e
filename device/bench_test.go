package device

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// setPTYBaud sets the line speed of a pty master, the "device" end; the
// input sets its own end through go.bug.st/serial. A pty does not pace
// bytes at the line speed, so the figures below are the software's share
// of the latency; the wire time is reported beside it.
func setPTYBaud(t testing.TB, fd uintptr, baud uint32) {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	require.NoError(t, err)
	rate := map[uint32]uint32{9600: unix.B9600, 115200: unix.B115200}[baud]
	tio.Cflag = tio.Cflag&^unix.CBAUD | rate
	tio.Ispeed, tio.Ospeed = baud, baud
	require.NoError(t, unix.IoctlSetTermios(int(fd), unix.TCSETS, tio))
}

// BenchmarkPTYLatency is bytes in → scan out through a real pty: the
// time from writing a 12-byte card frame to the master until its Scan
// comes out of the manager's channel.
func BenchmarkPTYLatency(b *testing.B) {
	frame := []byte("0012345678\r\n")
	for _, baud := range []uint32{9600, 115200} {
		b.Run(fmt.Sprint(baud), func(b *testing.B) {
			master, path := newPTY(b)
			setPTYBaud(b, master.Fd(), baud)
			m, err := Open(context.Background(), []Spec{mustSpec(b, "reader", fmt.Sprintf("serial:%s?baud=%d&frame=crlf&debounce=0s", path, baud))}, Options{})
			require.NoError(b, err)
			defer m.Close()
			e := <-m.Events()
			require.Equal(b, EventConnected, e.Type, "%+v", e)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := master.Write(frame); err != nil {
					b.Fatal(err)
				}
				if e := <-m.Events(); e.Type != EventScan {
					b.Fatalf("%+v", e)
				}
			}
			b.StopTimer()
			// 8N1: ten bits on the wire per byte.
			b.ReportMetric(float64(len(frame)*10)/float64(baud)*1e9, "wire-ns/scan")
		})
	}
}

// BenchmarkPTYFloor is the floor of BenchmarkPTYLatency: the same write
// read back from the slave with go.bug.st/serial in the same goroutine,
// without the input's reader goroutine, framer or channel.
func BenchmarkPTYFloor(b *testing.B) {
	frame := []byte("0012345678\r\n")
	master, path := newPTY(b)
	setPTYBaud(b, master.Fd(), 115200)
	port, err := serial.Open(path, &serial.Mode{BaudRate: 115200})
	require.NoError(b, err)
	defer port.Close()
	buf := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := master.Write(frame); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < len(frame); {
			n, err := port.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
}

// BenchmarkFramerFloor is the floor of BenchmarkFramer: a loop that looks
// at every byte of the same stream once and counts the line ends.
func BenchmarkFramerFloor(b *testing.B) {
	stream := bytes.Repeat([]byte("0012345678\r\n"), 1<<20/12)
	b.SetBytes(int64(len(stream)))
	n := 0
	for b.Loop() {
		for i := 0; i < len(stream); i += 4096 {
			for _, c := range stream[i:min(i+4096, len(stream))] {
				if c == '\n' {
					n++
				}
			}
		}
	}
	require.Positive(b, n)
}

// BenchmarkFramer is framing throughput on a stream of 12-byte frames fed
// in 4 KiB reads.
func BenchmarkFramer(b *testing.B) {
	stxFrame := func(data string) []byte {
		x := byte(etx)
		for _, c := range []byte(data) {
			x ^= c
		}
		return append([]byte("\x02"+data+"\x03"), x)
	}
	for _, c := range []struct {
		name  string
		spec  frameSpec
		frame []byte
	}{
		{"line", frameSpec{Type: frameLine, PartialTimeout: time.Second}, []byte("0012345678\r\n")},
		{"crlf", frameSpec{Type: frameCRLF, PartialTimeout: time.Second}, []byte("0012345678\r\n")},
		{"stx-xor", frameSpec{Type: frameSTX, Check: checkXOR, PartialTimeout: time.Second}, stxFrame("0012345678")},
		{"fixed", frameSpec{Type: frameFixed, Size: 10, PartialTimeout: time.Second}, []byte("0012345678")},
		{"gap", frameSpec{Type: frameGap, Gap: time.Millisecond}, []byte("0012345678")},
	} {
		b.Run(c.name, func(b *testing.B) {
			stream := bytes.Repeat(c.frame, 1<<20/len(c.frame))
			f := newTestFramer(b, c.spec)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			at := t0
			for b.Loop() {
				for i := 0; i < len(stream); i += 4096 {
					// The gap framer needs time between frames; the
					// others see one read time per chunk.
					if c.spec.Type == frameGap {
						for j := i; j < min(i+4096, len(stream)); j += len(c.frame) {
							at = at.Add(time.Second)
							f.Feed(at, stream[j:j+len(c.frame)])
						}
						continue
					}
					f.Feed(at, stream[i:min(i+4096, len(stream))])
				}
			}
		})
	}
}

// BenchmarkReplayPipeline is the whole path of one scan without a device:
// a fast replay of 1000 card frames through framer, transforms,
// debounce and the manager's channel, reading the file included.
func BenchmarkReplayPipeline(b *testing.B) {
	var recs []Record
	for i := range 1000 {
		recs = append(recs, Record{At: time.Duration(i) * time.Second, Data: fmt.Appendf(nil, "%08X\r\n", 0x1D2C3B8A+i)})
	}
	file := writeCapture(b, recs...)
	spec := mustSpec(b, "reader", "replay:"+file+"?as=serial&frame=crlf&speed=fast&reverse_bytes=1&hex2dec=1&pad=10&match=[0-9]{10}")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		m, err := Open(context.Background(), []Spec{spec}, Options{})
		require.NoError(b, err)
		for e := range m.Events() {
			if e.Type == EventScan {
				n++
			}
		}
	}
	require.Equal(b, b.N*len(recs), n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/scan")
}
