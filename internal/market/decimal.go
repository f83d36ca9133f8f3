package market

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/quagmt/udecimal"
)

// Decimal is an exact decimal number (up to 19 fractional digits, 128-bit
// coefficient with big.Int fallback). It is the only numeric type used for
// prices and sizes. See docs/DEPENDENCIES.md for why udecimal was chosen.
type Decimal = udecimal.Decimal

// Zero is the decimal 0.
var Zero = udecimal.Zero

// maxExponent bounds exponent notation so a hostile "1e999999999" cannot
// allocate a huge string.
const maxExponent = 40

// ErrNumber is wrapped by every number-parsing failure.
var ErrNumber = errors.New("invalid decimal number")

// ParseDecimal parses a decimal from its text form. It accepts what exchanges
// send as JSON strings or JSON numbers, including exponent notation such as
// "1e-05" (JavaScript serialises small numbers that way), which it converts
// exactly.
func ParseDecimal(s string) (Decimal, error) {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		expanded, err := expandExponent(s[:i], s[i+1:])
		if err != nil {
			return Zero, fmt.Errorf("%w %q: %v", ErrNumber, s, err)
		}
		s = expanded
	}
	d, err := udecimal.Parse(s)
	if err != nil {
		return Zero, fmt.Errorf("%w %q: %v", ErrNumber, s, err)
	}
	return d, nil
}

// ParseDecimalBytes is ParseDecimal for text in a byte slice. Without an
// exponent it does not allocate, so decoders call it on frame bytes.
func ParseDecimalBytes(b []byte) (Decimal, error) {
	if d, ok := parsePlain(b); ok {
		return d, nil
	}
	for _, c := range b {
		if c == 'e' || c == 'E' {
			return ParseDecimal(string(b))
		}
	}
	var d Decimal
	if err := d.UnmarshalText(b); err != nil {
		return Zero, fmt.Errorf("%w %q: %v", ErrNumber, b, errors.Unwrap(err))
	}
	return d, nil
}

// MustDecimal is ParseDecimal for constants in tests and code; it panics on
// invalid input.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// expandExponent rewrites mantissa×10^exp as plain decimal text.
func expandExponent(mant, exp string) (string, error) {
	e, err := strconv.Atoi(exp)
	if err != nil || e > maxExponent || e < -maxExponent {
		return "", errors.New("exponent out of range")
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimLeft(mant, "+-")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" {
		return "", errors.New("empty mantissa")
	}
	digits := intPart + frac
	point := len(intPart) + e // position of the decimal point in digits
	var out string
	switch {
	case point <= 0:
		out = "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		out = digits + strings.Repeat("0", point-len(digits))
	default:
		out = digits[:point] + "." + digits[point:]
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}

// parsePlain reads what exchanges send almost always, [-]digits[.digits]
// of at most 19 digits, in one pass and without udecimal's checks for the
// forms it cannot hold; ok is false for anything else, which is left to
// udecimal's parser (FuzzParseDecimal checks the two agree).
func parsePlain(b []byte) (Decimal, bool) {
	i, neg := 0, len(b) > 0 && b[0] == '-'
	if neg {
		i = 1
	}
	var coef uint64
	digits, point := 0, -1 // point: digits before the '.'
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			coef = coef*10 + uint64(c-'0')
			digits++
		case c == '.' && point < 0 && digits > 0:
			point = digits
		default:
			return Zero, false
		}
	}
	prec := 0
	if point >= 0 {
		prec = digits - point
	}
	if digits == 0 || digits > 19 || point >= 0 && prec == 0 {
		return Zero, false
	}
	d, err := udecimal.NewFromHiLo(neg, 0, coef, uint8(prec))
	return d, err == nil
}
