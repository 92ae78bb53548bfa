// Oracle for casskeeper's schedule port: runs the real robfig/cron v3.0.1 ParseStandard and Next.
//
// Usage (GOPATH mode, the Debian package installs the source under /usr/share/gocode):
//
//	TZ=UTC GO111MODULE=off GOPATH=/usr/share/gocode go run test/oracle/robfig/main.go < cases.jsonl
//
// Input: one JSON object per line, {"spec": "...", "from": "RFC3339", "count": N}.
// Output: one JSON object per input line, in order:
//
//	{"spec": "...", "ok": true, "next": ["RFC3339 UTC", ...]}   // stops early at the zero time ("never")
//	{"spec": "...", "ok": false, "error": "..."}                 // ParseStandard's error text
//	{"spec": "...", "panic": "..."}                               // ParseStandard panicked (robfig/cron#554)
//	{"spec": "...", "ok": true, "next": [...], "hang": true}      // a Next call never returned
//
// Run it with TZ=UTC: robfig uses time.Local for schedules without a CRON_TZ= prefix, and casskeeper
// evaluates those in UTC. `from` is parsed into a UTC time, so un-prefixed schedules run in UTC.
// A line of {"zone": "Europe/Paris", "at": ["RFC3339", ...]} instead answers {"zone", "offsets": [seconds]}
// (used to compare Go's zoneinfo with Node's Intl data), and {"duration": "1h30m"} answers
// {"duration", "ok", "nanos", "string"} or {"duration", "ok": false, "error"} (time.ParseDuration and
// Duration.String).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/robfig/cron"
)

type request struct {
	Spec     string   `json:"spec"`
	From     string   `json:"from"`
	Count    int      `json:"count"`
	Zone     *string  `json:"zone,omitempty"`
	At       []string `json:"at,omitempty"`
	Duration *string  `json:"duration,omitempty"`
}

type response struct {
	Spec    *string   `json:"spec,omitempty"`
	OK      *bool     `json:"ok,omitempty"`
	Next    *[]string `json:"next,omitempty"`
	Error   string    `json:"error,omitempty"`
	Panic   string    `json:"panic,omitempty"`
	Hang    bool      `json:"hang,omitempty"`
	Zone    *string   `json:"zone,omitempty"`
	Offsets []int     `json:"offsets,omitempty"`
	// For {"duration": "..."}: time.ParseDuration, and Duration.String of the result.
	Duration *string `json:"duration,omitempty"`
	Nanos    string  `json:"nanos,omitempty"`
	String   string  `json:"string,omitempty"`
}

// hangAfter: a Next call slower than this is taken to loop forever (real calls take microseconds).
const hangAfter = 3 * time.Second

func parse(spec string) (s cron.Schedule, err error, panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprint(r)
		}
	}()
	s, err = cron.ParseStandard(spec)
	return
}

func answer(req request) response {
	if req.Duration != nil {
		res := response{Duration: req.Duration}
		d, err := time.ParseDuration(*req.Duration)
		ok := err == nil
		res.OK = &ok
		if err != nil {
			res.Error = err.Error()
			return res
		}
		res.Nanos = fmt.Sprint(int64(d))
		res.String = d.String()
		return res
	}
	if req.Zone != nil {
		res := response{Zone: req.Zone, Offsets: []int{}}
		loc, err := time.LoadLocation(*req.Zone)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		for _, a := range req.At {
			t, err := time.Parse(time.RFC3339Nano, a)
			if err != nil {
				res.Error = err.Error()
				return res
			}
			_, off := t.In(loc).Zone()
			res.Offsets = append(res.Offsets, off)
		}
		return res
	}
	res := response{Spec: &req.Spec}
	sched, err, panicked := parse(req.Spec)
	if panicked != "" {
		res.Panic = panicked
		return res
	}
	ok := err == nil
	res.OK = &ok
	if err != nil {
		res.Error = err.Error()
		return res
	}
	next := []string{}
	res.Next = &next
	t, err := time.Parse(time.RFC3339Nano, req.From)
	if err != nil {
		res.Error = "bad from: " + err.Error()
		return res
	}
	t = t.UTC()
	// robfig's Next loops forever on some DST changes (Pacific/Apia skipping 30 Dec 2011: AddDate(0, 0, 1)
	// lands on the same instant again). Each call runs in a goroutine; one that takes longer than
	// hangAfter is reported as "hang" (the goroutine is left spinning until the process exits).
	times := make(chan time.Time)
	go func() {
		for i := 0; i < req.Count; i++ {
			t = sched.Next(t)
			times <- t
			if t.IsZero() {
				return
			}
		}
	}()
	for i := 0; i < req.Count; i++ {
		select {
		case n := <-times:
			if n.IsZero() {
				return res
			}
			next = append(next, n.UTC().Format(time.RFC3339Nano))
			res.Next = &next
		case <-time.After(hangAfter):
			res.Hang = true
			return res
		}
	}
	return res
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		line := in.Bytes()
		if len(line) == 0 {
			continue
		}
		var req request
		if err := json.Unmarshal(line, &req); err != nil {
			fmt.Fprintf(os.Stderr, "bad input line: %v\n", err)
			os.Exit(2)
		}
		if err := enc.Encode(answer(req)); err != nil {
			fmt.Fprintf(os.Stderr, "write: %v\n", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "read: %v\n", err)
		os.Exit(2)
	}
}
