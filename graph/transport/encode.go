package transport

import (
	"bytes"
	"encoding/hex"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
)

// Encoders of values and pages for the paths that write responses themselves (graph's
// flat history and syncLogs pages, next messages of shared renderings): each writes
// what gqlgen's own marshaler of that value writes, without a closure and a writer per
// value. graph's parity tests (TestFlatHistoryMatchesGqlgen and the like) compare the
// two byte for byte.

// The appenders write what gqlgen's marshalers write (graphql.MarshalString and
// MarshalID, the enums' MarshalGQL, model.MarshalTime, graphql.MarshalInt), without
// a closure and a writer per value.

// AppendString appends s as a JSON string, as gqlgen writes strings: as is when it
// has nothing to escape, else through graphql.MarshalString itself.
func AppendString(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			w := bytes.NewBuffer(b)
			graphql.MarshalString(s).MarshalGQL(w)
			return w.Bytes()
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendTime writes what graph/model.MarshalTime writes: RFC 3339 in UTC, which
// needs no escaping.
func AppendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendInt writes what graphql.MarshalInt writes.
func AppendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

// AppendInt64 writes what graphql.MarshalInt64 writes.
func AppendInt64(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// AppendUUID appends u quoted, in uuid.UUID.String's form.
func AppendUUID(b []byte, u uuid.UUID) []byte {
	var s [38]byte
	s[0], s[9], s[14], s[19], s[24], s[37] = '"', '-', '-', '-', '-', '"'
	hex.Encode(s[1:9], u[0:4])
	hex.Encode(s[10:14], u[4:6])
	hex.Encode(s[15:19], u[6:8])
	hex.Encode(s[20:24], u[8:10])
	hex.Encode(s[25:37], u[10:16])
	return append(b, s[:]...)
}

// AppendOptional appends a nullable field: null, or the value.
func AppendOptional[T any](b []byte, v *T, app func([]byte, T) []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return app(b, *v)
}

// PooledPage writes a page built in a buffer from PageBuffer (bp), then gives the
// buffer back: the one marshaler of graph's flat paths (history and syncLogs).
func PooledPage(out []byte, bp *[]byte) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		page := out
		if page == nil {
			// gqlgen writes a root field once; were it to write it again, the buffer
			// would already be another request's.
			graphql.Null.MarshalGQL(w)
			return
		}
		out = nil
		if buf, ok := w.(*bytes.Buffer); ok {
			// gqlgen's response buffer: make room for the rest of the response too, or
			// its next write (a closing brace) copies the page into a buffer twice as big.
			buf.Grow(len(page) + 256)
		}
		_, _ = w.Write(page)
		if cap(page) <= 1<<20 { // a 500-row page of every field is about 250 KiB
			*bp = page
			pageBuffers.Put(bp)
		}
	})
}

// pageBuffers hold pages while they are written: gqlgen copies the page into the
// response, so the buffer is free again once the marshaler has run.
var pageBuffers = sync.Pool{New: func() any { return new([]byte) }}

// PageBuffer returns a buffer to build a page in; hand it to PooledPage, or back to
// ReleasePage when the page is not used.
func PageBuffer() *[]byte { return pageBuffers.Get().(*[]byte) }

// ReleasePage gives back a buffer that PooledPage will not write.
func ReleasePage(bp *[]byte) { pageBuffers.Put(bp) }
