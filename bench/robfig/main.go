// Baseline for bench/schedule-next.ts: robfig/cron v3.0.1 Next() per second over the same schedules.
// Run in GOPATH mode against Debian's golang-github-robfig-cron-dev:
//   GO111MODULE=off GOPATH=/usr/share/gocode TZ=UTC go run bench/robfig/main.go 1000 "0 2 * * *" ...
package main

import (
	"encoding/json"
	"os"
	"strconv"
	"time"

	"github.com/robfig/cron"
)

func main() {
	steps, _ := strconv.Atoi(os.Args[1])
	var scheds []cron.Schedule
	for _, s := range os.Args[2:] {
		sc, err := cron.ParseStandard(s)
		if err != nil {
			panic(err)
		}
		scheds = append(scheds, sc)
	}
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := 0
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		for _, sc := range scheds {
			t := from
			for i := 0; i < steps; i++ {
				t = sc.Next(t)
				if t.IsZero() {
					break
				}
				calls++
			}
		}
	}
	elapsed := time.Since(start).Seconds()
	json.NewEncoder(os.Stdout).Encode(map[string]float64{"perSecond": float64(calls) / elapsed})
}
