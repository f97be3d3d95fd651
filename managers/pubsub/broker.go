package siopubsub

import "context"

// Broker carries messages between server processes. Implementations must
// be safe for concurrent use.
type Broker interface {
	// Publish sends msg to every subscriber of channel.
	Publish(ctx context.Context, channel string, msg []byte) error
	// Subscribe subscribes to sub and calls onMessage for each message, one
	// at a time, until ctx ends (it then returns ctx's error) or the
	// subscription is lost (it returns why). It calls sub.OnReady once the
	// broker has confirmed the subscription. The manager calls Subscribe
	// again, with backoff, after a loss.
	Subscribe(ctx context.Context, sub Subscription, onMessage func(channel string, msg []byte)) error
	// Close releases what the broker itself opened; connections the caller
	// gave it stay open.
	Close() error
}

// Subscription names what a [Broker.Subscribe] call listens to.
type Subscription struct {
	// Channels are exact channel names.
	Channels []string
	// Prefixes select every channel whose name starts with one of them
	// (Redis: PSUBSCRIBE "<prefix>*" with the prefix's glob characters
	// escaped). Only set with [Options].RoomChannels.
	Prefixes []string
	// OnReady is called once the subscription is in place.
	OnReady func()
}

// SubscriberCounter is implemented by brokers that know how many
// subscribers a channel has (Redis: PUBSUB NUMSUB). Without it the manager
// counts server processes from heartbeats.
type SubscriberCounter interface {
	// NumSub returns the number of subscribers of channel.
	NumSub(ctx context.Context, channel string) (int, error)
}
