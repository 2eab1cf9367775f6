// Package seeds derives the seeds of a model's independent random streams from one
// user seed, so that every draw (initialisation, noise of step k, minibatch of step k)
// is reproducible on its own, whatever was drawn before it.
package seeds

// Derive is the seed of the k-th draw of stream, a hash of (seed, stream, k).
func Derive(seed, stream, k uint64) uint64 {
	return splitmix(splitmix(splitmix(seed)^stream) ^ splitmix(k+0x632be59bd9b4e019))
}

// splitmix is the splitmix64 finaliser with its increment: a bijection of uint64 whose
// outputs for consecutive inputs look independent.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
