// Package kombo is a Go client for Kombo's unified ATS assessment API, as used
// by assessment and background-check vendors.
//
// It holds Kombo's wire types (the webhooks Kombo sends and the requests and
// responses of its REST API), Sign and Verify for the X-Kombo-Signature
// header, ParseWebhook, which decodes and validates a webhook body, and a
// Client for the endpoints a vendor calls: SetPackages, ListOrders,
// UpdateOrderResult, CheckAPIKey and GetIntegration.
//
// Field names follow Kombo's JSON. Fields that Kombo declares "required but
// nullable" are pointers: a nil pointer is encoded as null. Unknown enum values
// are kept as strings, since Kombo adds values over time.
//
// Request bodies have Validate methods that report the first wrong field as a
// *ValidationError; the Client calls them before sending. Kombo's error
// responses become an *Error carrying Kombo's error code. The Client does not
// retry: IsRetryable and RetryAfter tell the caller whether and when to.
//
// Package kombotest provides a fake Kombo server for tests.
package kombo
