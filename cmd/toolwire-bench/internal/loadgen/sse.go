package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// sseReader reads Server-Sent Events (the WHATWG event-stream format) from
// a response body, reusing its buffers: what next returns is valid until
// the next call.
//
// Lines end in LF or CRLF. A lone CR as a line end, which the format allows
// and no MCP server sends, is not recognised.
type sseReader struct {
	r     *bufio.Reader
	line  []byte // a line longer than r's buffer, assembled
	data  []byte
	event []byte
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 16<<10)}
}

// reset points s at r, keeping its buffers.
func (s *sseReader) reset(r io.Reader) {
	s.r.Reset(r)
	s.line, s.data, s.event = s.line[:0], s.data[:0], s.event[:0]
}

// next returns the next event's type ("" when the event named none) and its
// data, the data lines joined with LF. At the end of the stream it returns
// io.EOF, dropping an event that no blank line ended, as the format says.
// Comments, id and retry fields are skipped.
func (s *sseReader) next() (event, data []byte, err error) {
	s.data, s.event = s.data[:0], s.event[:0]
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			return nil, nil, err
		}
		if len(line) == 0 {
			if !hasData {
				// Nothing to dispatch: the event type resets too.
				s.event = s.event[:0]
				continue
			}
			return s.event, s.data, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				s.data = append(s.data, '\n')
			}
			s.data = append(s.data, value...)
			hasData = true
		case "event":
			s.event = append(s.event[:0], value...)
		}
	}
}

// readLine returns the next line without its line end. A last line that no
// line end closes is returned as a line; after it comes io.EOF.
func (s *sseReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		switch {
		case err == nil:
			if len(s.line) > 0 {
				s.line = append(s.line, chunk...)
				chunk = s.line
			}
			return trimEOL(chunk), nil
		case errors.Is(err, bufio.ErrBufferFull):
			s.line = append(s.line, chunk...)
		case errors.Is(err, io.EOF) && (len(chunk) > 0 || len(s.line) > 0):
			s.line = append(s.line, chunk...)
			return trimEOL(s.line), nil
		default:
			return nil, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
