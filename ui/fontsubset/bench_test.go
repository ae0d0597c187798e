package fontsubset

import (
	"os"
	"testing"
)

// notoPath is the font make deps installs; the benchmarks need it.
const notoPath = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

// BenchmarkCutGB2312 cuts GB 2312 out of Noto Sans CJK SC, as the kiosk
// does at start-up (it maps the file; here it is read once, outside the
// timer). Compare with BenchmarkReadFontFloor, the naive approach's first
// step: reading the whole file.
func BenchmarkCutGB2312(b *testing.B) {
	data, err := os.ReadFile(notoPath)
	if err != nil {
		b.Fatalf("%v (make deps installs fonts-noto-cjk)", err)
	}
	runes := gb2312(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Cut(data, Request{Face: 2, Runes: runes}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFontFloor reads the whole font file (page cache warm).
func BenchmarkReadFontFloor(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := os.ReadFile(notoPath); err != nil {
			b.Fatal(err)
		}
	}
}
