// Package policy decides who may start a run. The repository and org
// configuration files, their schema and approval rules build on it.
package policy
