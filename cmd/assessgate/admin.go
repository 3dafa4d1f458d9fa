package main

// defineAdminFlags defines the admin pages' setting; the function it
// returns gives the password once f is parsed.
func defineAdminFlags(f *envFlags) func() string {
	password := f.String("admin-password", "ASSESSGATE_ADMIN_PASSWORD", "",
		"password of the admin pages at /admin/ (at least 12 characters); unset: the admin pages are off")
	return func() string { return *password }
}
