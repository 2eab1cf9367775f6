//go:build cuda

package main

// Linking the GPU engine registers it with host as the "gpu" device, so that
// --device gpu (and auto, when a GPU is present) use it.
import _ "github.com/gosde/gosde/cuda"
