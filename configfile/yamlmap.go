package configfile

import (
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// mappings reads the YAML mappings of a config file into Go maps by key,
// following aliases and merge keys (<<: *defaults) as yaml.v3's decoder
// does: explicit keys win, then the merged mappings in the order given.
//
// It replaces decoding into map[string]yaml.Node, which checks a mapping's
// keys for duplicates pair by pair and records an error for every pair:
// 10,000 copies of one key, 40 KB of YAML, made 50 million messages and 24
// GB of garbage (found while sizing the allocation bound of
// cmd/cognito-export's FuzzConfigFile, whose testdata/fuzz keeps a smaller
// case). Here each key is looked up once,
// and each mapping is read once however many aliases name it, so a file
// costs memory in proportion to its size.
type mappings map[*yaml.Node]map[string]*yaml.Node

// errNotMapping is what of says of anything but a mapping.
var errNotMapping = errors.New("not a mapping")

// of reads the mapping n (a document, a mapping or an alias of one) by
// key; an empty document is an empty mapping.
func (ms mappings) of(n *yaml.Node) (map[string]*yaml.Node, error) {
	n = resolve(n)
	switch {
	case n.Kind == 0:
		return nil, nil
	case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
		return ms.of(n.Content[0])
	case n.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("line %d: %w", n.Line, errNotMapping)
	}
	if m, seen := ms[n]; seen {
		if m == nil { // still being read: a merge that names its own mapping
			return nil, fmt.Errorf("line %d: a mapping merges itself", n.Line)
		}
		return m, nil
	}
	ms[n] = nil
	m := make(map[string]*yaml.Node, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: a key that is not a name", k.Line)
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges[:0], v) // as in yaml.v3, the last merge key counts
			continue
		}
		if _, dup := m[k.Value]; dup {
			return nil, fmt.Errorf("line %d: key %q is set twice in one mapping", k.Line, k.Value)
		}
		m[k.Value] = v
	}
	if err := ms.merge(m, merges); err != nil {
		return nil, err
	}
	ms[n] = m
	return m, nil
}

// merge adds to m the keys of the mappings that merges name (each a
// mapping or a list of them, in order) that m does not set itself.
func (ms mappings) merge(m map[string]*yaml.Node, merges []*yaml.Node) error {
	for _, v := range merges {
		sources := []*yaml.Node{v}
		if r := resolve(v); r.Kind == yaml.SequenceNode {
			sources = r.Content
		}
		for _, src := range sources {
			merged, err := ms.of(src)
			if err != nil {
				return fmt.Errorf("line %d: <<: merges mappings only: %w", v.Line, err)
			}
			for k, mv := range merged {
				if _, set := m[k]; !set {
					m[k] = mv
				}
			}
		}
	}
	return nil
}

// list reads a sequence of mappings (or an alias of one).
func (ms mappings) list(n *yaml.Node) ([]map[string]*yaml.Node, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: not a list", n.Line)
	}
	out := make([]map[string]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if resolve(c).Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: %w", c.Line, errNotMapping)
		}
		m, err := ms.of(c)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 64; i++ {
		n = n.Alias
	}
	return n
}
