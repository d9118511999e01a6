package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// Errors of strict decoding. They name the defect, never the input.
var (
	ErrSyntax       = errors.New("schema: malformed JSON")
	ErrDuplicateKey = errors.New("schema: duplicate object key")
	ErrTrailingData = errors.New("schema: data after the JSON value")
	ErrTooDeep      = errors.New("schema: JSON nested too deeply")
	ErrEmpty        = errors.New("schema: empty body")
)

// DecodeError is a strict-decoding failure with the location it was found
// at: the JSON pointer of the object holding a duplicate key, for example.
// Pointer segments are sanitised like field errors' (see Schema.Validate).
type DecodeError struct {
	Err     error  // one of the Err variables
	Pointer string // where; "" for the whole document
}

func (e *DecodeError) Error() string {
	if e.Pointer == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + " at " + e.Pointer
}

func (e *DecodeError) Unwrap() error { return e.Err }

// decodeStrict parses data as exactly one JSON value, rejecting duplicate
// object keys, trailing data and nesting beyond maxDepth. Numbers stay
// json.Number, as the validator wants them.
func decodeStrict(data []byte, maxDepth int, names map[string]bool) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &DecodeError{Err: ErrEmpty}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	d := &strictDecoder{dec: dec, maxDepth: maxDepth, names: names}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &DecodeError{Err: ErrTrailingData}
	}
	return v, nil
}

type strictDecoder struct {
	dec      *json.Decoder
	maxDepth int
	path     []string
	names    map[string]bool
}

func (d *strictDecoder) fail(err error) error {
	return &DecodeError{Err: err, Pointer: pointer(d.path, d.names)}
}

func (d *strictDecoder) value(depth int) (any, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, d.fail(ErrSyntax)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= d.maxDepth {
			return nil, d.fail(ErrTooDeep)
		}
		switch t {
		case '{':
			obj := map[string]any{}
			for d.dec.More() {
				kt, err := d.dec.Token()
				if err != nil {
					return nil, d.fail(ErrSyntax)
				}
				k, ok := kt.(string)
				if !ok {
					return nil, d.fail(ErrSyntax)
				}
				if _, dup := obj[k]; dup {
					return nil, d.fail(ErrDuplicateKey)
				}
				d.path = append(d.path, k)
				v, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				d.path = d.path[:len(d.path)-1]
				obj[k] = v
			}
			if _, err := d.dec.Token(); err != nil { // }
				return nil, d.fail(ErrSyntax)
			}
			return obj, nil
		case '[':
			arr := []any{}
			for i := 0; d.dec.More(); i++ {
				d.path = append(d.path, itoa(i))
				v, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				d.path = d.path[:len(d.path)-1]
				arr = append(arr, v)
			}
			if _, err := d.dec.Token(); err != nil { // ]
				return nil, d.fail(ErrSyntax)
			}
			return arr, nil
		}
		return nil, d.fail(ErrSyntax)
	default:
		return t, nil // string, json.Number, bool, nil
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
