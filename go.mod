module github.com/campuspos/kiosk

go 1.26.0

require (
	github.com/creack/pty v1.1.24
	github.com/karalabe/hid v1.0.1-0.20240306101548-573246063e52
	github.com/stretchr/testify v1.12.1
	go.bug.st/serial v1.8.0
	go.etcd.io/bbolt v1.5.0
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/sys v0.45.0
	golang.org/x/text v0.44.0
)
