// Package inspect is guard's input inspection stage.
package inspect
