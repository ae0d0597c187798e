package onecard

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"encoding/base64"
	"errors"
	"fmt"
)

// Cipher encrypts and decrypts the `request` field (3DES-CBC, PKCS#5, zero
// IV) and the crypt_type=1 bill (single DES-ECB under the first 8 key bytes,
// zero padding), as NOTES describes. It is safe for concurrent use: every
// operation builds its own mode over the shared, read-only block ciphers.
type Cipher struct {
	tdes cipher.Block
	des  cipher.Block
}

// KeySize is the 3DES key length the app secret must decode to.
const KeySize = 24

// NewCipher decodes the base64 app secret into the 24-byte 3DES key.
func NewCipher(appSecret string) (*Cipher, error) {
	key, err := base64.StdEncoding.DecodeString(appSecret)
	if err != nil {
		return nil, errors.New("app secret is not standard base64")
	}
	return NewCipherKey(key)
}

// NewCipherKey takes the raw 24-byte 3DES key.
func NewCipherKey(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("app secret decodes to %d bytes, want %d", len(key), KeySize)
	}
	t, err := des.NewTripleDESCipher(key)
	if err != nil {
		return nil, fmt.Errorf("3DES key: %w", err)
	}
	d, err := des.NewCipher(key[:8])
	if err != nil {
		return nil, fmt.Errorf("DES bill key: %w", err)
	}
	return &Cipher{tdes: t, des: d}, nil
}

// Encrypt returns the wire value of a `request` field: base64 of the
// 3DES-CBC ciphertext of plain.
func (c *Cipher) Encrypt(plain []byte) string {
	bs := c.tdes.BlockSize()
	pad := bs - len(plain)%bs
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.tdes, make([]byte, bs)).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// Decrypt reverses Encrypt, checking the padding strictly: a wrong key shows
// up here as bad padding rather than as garbage JSON.
func (c *Cipher) Decrypt(wire string) ([]byte, error) {
	buf, err := base64.StdEncoding.DecodeString(wire)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	bs := c.tdes.BlockSize()
	if len(buf) == 0 || len(buf)%bs != 0 {
		return nil, fmt.Errorf("ciphertext length %d is not a positive multiple of %d", len(buf), bs)
	}
	cipher.NewCBCDecrypter(c.tdes, make([]byte, bs)).CryptBlocks(buf, buf)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > bs || !bytes.Equal(buf[len(buf)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errors.New("bad padding after decryption (wrong app secret?)")
	}
	return buf[:len(buf)-pad], nil
}

// EncryptBill encrypts a bill the way the platform does for crypt_type=1:
// DES-ECB under the first 8 key bytes, zero-padded, standard base64.
func (c *Cipher) EncryptBill(plain []byte) string {
	bs := c.des.BlockSize()
	n := (len(plain) + bs - 1) / bs * bs
	buf := make([]byte, n)
	copy(buf, plain)
	for i := 0; i < n; i += bs {
		c.des.Encrypt(buf[i:i+bs], buf[i:i+bs])
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// DecryptBill reverses EncryptBill and strips the trailing zero bytes.
// Whitespace around the base64 text (a trailing newline) is ignored.
func (c *Cipher) DecryptBill(wire []byte) ([]byte, error) {
	buf, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(wire)))
	if err != nil {
		return nil, fmt.Errorf("encrypted bill is not base64: %w", err)
	}
	bs := c.des.BlockSize()
	if len(buf)%bs != 0 {
		return nil, fmt.Errorf("encrypted bill length %d is not a multiple of %d", len(buf), bs)
	}
	for i := 0; i < len(buf); i += bs {
		c.des.Decrypt(buf[i:i+bs], buf[i:i+bs])
	}
	return bytes.TrimRight(buf, "\x00"), nil
}
