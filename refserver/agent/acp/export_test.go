package acp_test

import "github.com/agentsession/agentsession/refserver/agent/acp"

func errClosed() error { return acp.ErrClosed }
