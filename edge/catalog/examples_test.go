package catalog_test

import (
	"encoding/json"
	"fmt"
	"log"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
)

// Build a catalog from a compiled-in service, look a tool up, and check a
// call's arguments before making the gRPC call.
func Example() {
	c, err := catalog.New([]protoreflect.ServiceDescriptor{
		echov1.File_examples_echo_v1_echo_proto.Services().ByName("EchoService"),
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range c.Tools() {
		fmt.Printf("%s %s %s\n", t.Name, t.Kind, t.FullMethod)
	}

	stream, _ := c.Lookup("stream")
	fmt.Println(stream.DefaultTimeout, stream.MaxTimeout, *stream.Annotations.ReadOnly)
	fmt.Println(string(stream.InputSchema))

	for _, v := range stream.ValidateArgs(json.RawMessage(`{"n": 200000, "interval": 5}`)) {
		fmt.Printf("%q: %s\n", v.Field, v.Message)
	}
	// Output:
	// echo unary /examples.echo.v1.EchoService/Echo
	// sleep unary /examples.echo.v1.EchoService/Sleep
	// stream server_stream /examples.echo.v1.EchoService/Stream
	// 2m0s 10m0s true
	// {"type":"object","description":"StreamRequest is the input of stream.","properties":{"n":{"type":"integer","description":"How many progress notifications to send.","minimum":0,"maximum":100000},"interval_ms":{"type":"integer","description":"Milliseconds to wait before each notification; 0 sends them back to back.","minimum":0,"maximum":60000}},"additionalProperties":false}
	// "/interval": unknown property "interval"
	// "/n": must be <= 100000
}

// The events a stream's messages carry are told apart from its payload by
// field number.
func ExampleCatalog_Lookup() {
	c, err := catalog.New([]protoreflect.ServiceDescriptor{
		echov1.File_examples_echo_v1_echo_proto.Services().ByName("EchoService"),
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	stream, _ := c.Lookup("stream")
	fields := stream.Method.Output().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if stream.Events[f.Number()] == catalog.EventProgress {
			fmt.Println(f.Name(), "is progress")
		} else {
			fmt.Println(f.Name(), "is payload")
		}
	}
	// Output:
	// progress is progress
	// result is payload
}
