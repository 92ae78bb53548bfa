// Oracle for casskeeper's YAML loader: what kubectl and the API server make of a YAML document.
// sigs.k8s.io/yaml (kubectl, apimachinery) is a fork of github.com/ghodss/yaml; both turn YAML into JSON with
// YAMLToJSON on top of gopkg.in/yaml.v2, so a scalar means whatever yaml.v2 resolves it to, and a map key
// becomes whatever ghodss's key conversion prints.
//
// Usage (GOPATH mode; Debian's golang-github-ghodss-yaml-dev and golang-gopkg-yaml.v2-dev install the sources
// under /usr/share/gocode):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run test/oracle/kube-yaml/main.go < cases.jsonl
//
// Input: one JSON object per line, {"yaml": "..."}.
// Output: one JSON object per input line, in order: {"json": "<YAMLToJSON output>"} or {"error": "..."}.
// Only the first document of each input counts (YAMLToJSON reads one document).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/ghodss/yaml"
)

type request struct {
	YAML string `json:"yaml"`
}

type response struct {
	JSON  *string `json:"json,omitempty"`
	Error string  `json:"error,omitempty"`
}

func convert(in string) (r response) {
	defer func() {
		if p := recover(); p != nil {
			r = response{Error: fmt.Sprint("panic: ", p)}
		}
	}()
	out, err := yaml.YAMLToJSON([]byte(in))
	if err != nil {
		return response{Error: err.Error()}
	}
	s := string(out)
	return response{JSON: &s}
}

func main() {
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for scanner.Scan() {
		var req request
		if err := json.Unmarshal(scanner.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "bad input line:", err)
			os.Exit(2)
		}
		if err := enc.Encode(convert(req.YAML)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if err := scanner.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
