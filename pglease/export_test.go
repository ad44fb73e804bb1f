package pglease

// halt stops renewing the instance's leases without freeing them, as when
// the instance dies.
func (c *Coordinator) halt() {
	c.stop()
	c.wg.Wait()
}
