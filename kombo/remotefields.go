package kombo

import "encoding/json"

// RemoteFields are the ATS-specific fields of a result that Kombo types
// (ResultRequest.RemoteFields holds their JSON; build it with JSON). Each
// tool's part is sent only to that tool; nil parts are left out.
type RemoteFields struct {
	Workday         *WorkdayRemoteFields         `json:"workday,omitempty"`
	SmartRecruiters *SmartRecruitersRemoteFields `json:"smartrecruiters,omitempty"`
	Recruitee       *RecruiteeRemoteFields       `json:"recruitee,omitempty"`
}

// SmartRecruitersRemoteFields: ScoreLabel is passed to SmartRecruiters'
// scoreLabel field.
type SmartRecruitersRemoteFields struct {
	ScoreLabel string `json:"scoreLabel,omitempty"`
}

// RecruiteeRemoteFields: Subtitle is passed to the subtitle of Recruitee's
// assessment report.
type RecruiteeRemoteFields struct {
	Subtitle string `json:"subtitle,omitempty"`
}

// WorkdayRemoteFields are fields of Workday's Assess_Candidate operation.
// Build the common case with WorkdayAssessmentStatus.
type WorkdayRemoteFields struct {
	AssessCandidateData *WorkdayAssessCandidateData `json:"Assess_Candidate_Data,omitempty"`
}

// WorkdayAssessCandidateData is Workday's Assess_Candidate_Data.
type WorkdayAssessCandidateData struct {
	CandidateAssessmentData *WorkdayCandidateAssessmentData `json:"Candidate_Assessment_Data,omitempty"`
}

// WorkdayCandidateAssessmentData is Workday's Candidate_Assessment_Data.
type WorkdayCandidateAssessmentData struct {
	TestResultData *WorkdayTestResultData `json:"Assess_Candidate_Test_Result_Data,omitempty"`
}

// WorkdayTestResultData is Workday's Assess_Candidate_Test_Result_Data.
type WorkdayTestResultData struct {
	StatusReference *WorkdayStatusReference `json:"Assessment_Test_Status_Reference,omitempty"`
}

// WorkdayStatusReference is Workday's Assessment_Test_Status_Reference:
// AssessmentStatusID is the customer's own id of a test outcome, such as a
// pass or a fail.
type WorkdayStatusReference struct {
	AssessmentStatusID string `json:"Assessment_Status_ID,omitempty"`
}

// WorkdayAssessmentStatus returns Workday's remote fields that set the
// test's outcome to the customer's status id.
func WorkdayAssessmentStatus(statusID string) *WorkdayRemoteFields {
	return &WorkdayRemoteFields{&WorkdayAssessCandidateData{&WorkdayCandidateAssessmentData{
		&WorkdayTestResultData{&WorkdayStatusReference{statusID}}}}}
}

// JSON returns f as ResultRequest.RemoteFields takes it.
func (f RemoteFields) JSON() json.RawMessage {
	b, err := json.Marshal(f)
	if err != nil {
		panic("kombo: RemoteFields: " + err.Error()) // strings and pointers always encode
	}
	return b
}
