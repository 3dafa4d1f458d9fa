package kombo

// APIKeyInfo is what GET /check-api-key says about an API key.
// CustomerID is Kombo's deprecated name for EnvironmentID.
type APIKeyInfo struct {
	EnvironmentID string `json:"environment_id"`
	CustomerID    string `json:"customer_id"`
}

// Integration is a customer's connection of one tool to Kombo, as returned
// by GET /integrations/{id}. Status is one of the IntegrationState constants;
// SetupStatus is INCOMPLETE, FINAL_SYNC_PENDING or COMPLETED; Category is
// ASSESSMENT for assessment vendors. Timestamps are Kombo's strings, such as
// "2026-07-01T08:30:00.000Z".
type Integration struct {
	ID            string             `json:"id"`
	Tool          IntegrationTool    `json:"tool"`
	Category      string             `json:"category"`
	Status        string             `json:"status"`
	SetupStatus   string             `json:"setup_status"`
	EndUser       EndUser            `json:"end_user"`
	ScopeConfig   ScopeConfig        `json:"scope_config"`
	DataExpiredAt *string            `json:"data_expired_at"`
	CreatedAt     string             `json:"created_at"`
	Beta          bool               `json:"beta"`
	ReadModels    []IntegrationModel `json:"read_models"`
	WriteActions  []IntegrationModel `json:"write_actions"`
}

// IntegrationTool is the tool an integration connects, such as Greenhouse.
// Show Label to users; InternalLabel is for debugging.
type IntegrationTool struct {
	ID            string  `json:"id"`
	Label         string  `json:"label"`
	InternalLabel *string `json:"internal_label"`
	LogoURL       string  `json:"logo_url"`
	IconURL       string  `json:"icon_url"`
}

// ScopeConfig is the scope configuration an integration uses.
type ScopeConfig struct {
	ID   string  `json:"id"`
	Name *string `json:"name"`
}

// IntegrationModel is a data model or write action of an integration and
// whether it is available.
type IntegrationModel struct {
	ID                 string             `json:"id"`
	Label              string             `json:"label"`
	IsAvailable        bool               `json:"is_available"`
	CoverageStatus     string             `json:"coverage_status"`
	ScopeConfigSetting string             `json:"scope_config_setting"`
	OptedOutByCustomer bool               `json:"opted_out_by_customer"`
	Fields             []IntegrationField `json:"fields"`
}

// IntegrationField is one field of an IntegrationModel.
type IntegrationField struct {
	ID                 string `json:"id"`
	IsAvailable        bool   `json:"is_available"`
	CoverageStatus     string `json:"coverage_status"`
	ScopeConfigSetting string `json:"scope_config_setting"`
	OptedOutByCustomer bool   `json:"opted_out_by_customer"`
}
