package membership

// SeatSource records who gave a seat.
type SeatSource string

// Seat sources; a free member has none.
const (
	SourceNone      SeatSource = ""
	SourceManual    SeatSource = "manual"
	SourceDirectory SeatSource = "directory"
)

// Member is a person of an organization, keyed by normalized email. PlanID ""
// means free. ManualPlanID remembers the plan an admin gave a seat on, so that a
// manual holder who joins and leaves A keeps the seat in test mode (SPEC §3).
type Member struct {
	Email           string
	Name            string
	PlanID          string
	Source          SeatSource
	ManualPlanID    string
	DirectoryUserID string
}

// Paid reports whether m holds a paid seat.
func (m Member) Paid() bool { return m.PlanID != "" }

// Claim is a directory user carrying a member's email, in a live directory
// linked to PlanID; InA says whether the user is in that plan's set A.
type Claim struct {
	PlanID          string
	DirectoryUserID string
	InA             bool
}

// Seat is where a member's seat belongs.
type Seat struct {
	PlanID          string
	Source          SeatSource
	DirectoryUserID string
}

// SeatFor returns the seat m should hold, from the current state alone: the
// claims on its email and the modes of its organization's plans. Because it
// reads no history, applying the same events in any order ends in the same
// seats (SPEC §4.3).
//
//   - a seat on a frozen plan (directory inactive) stays as it is;
//   - a user in A of a plan in test or directory mode holds a directory seat there
//     (the lowest plan id wins if two directories of one organization claim the
//     same person: one paid seat per person per organization);
//   - otherwise a remembered manual seat survives in manual and test mode, and in
//     directory mode only until the cutover downgrade, and only for people the
//     directory never listed;
//   - everyone else is free.
func SeatFor(m Member, claims []Claim, plans map[string]PlanView) Seat {
	if m.PlanID != "" && plans[m.PlanID].Frozen {
		return Seat{PlanID: m.PlanID, Source: m.Source, DirectoryUserID: m.DirectoryUserID}
	}
	var best *Claim
	linked := ""
	linkedInA := false
	for i := range claims {
		c := &claims[i]
		// The smallest id wins every tie, so the result never depends on
		// which claim was stored first.
		if linked == "" || (c.InA && !linkedInA) || (c.InA == linkedInA && c.DirectoryUserID < linked) {
			linked, linkedInA = c.DirectoryUserID, c.InA
		}
		p := plans[c.PlanID]
		if !c.InA || p.Frozen || (p.Mode != ModeTest && p.Mode != ModeDirectory) {
			continue
		}
		if best == nil || c.PlanID < best.PlanID || (c.PlanID == best.PlanID && c.DirectoryUserID < best.DirectoryUserID) {
			best = c
		}
	}
	if best != nil {
		return Seat{PlanID: best.PlanID, Source: SourceDirectory, DirectoryUserID: best.DirectoryUserID}
	}
	if m.ManualPlanID != "" {
		// A frozen plan grants nothing: seats already on it stay (above), but a
		// seat the downgrade took is not given back while the directory is off.
		p, ok := plans[m.ManualPlanID]
		keep := ok && !p.Frozen && (p.Mode == ModeManual || p.Mode == ModeTest ||
			(p.Mode == ModeDirectory && !p.DowngradeDone && !listedOn(claims, m.ManualPlanID)))
		if keep {
			return Seat{PlanID: m.ManualPlanID, Source: SourceManual, DirectoryUserID: linked}
		}
	}
	return Seat{DirectoryUserID: linked}
}

func listedOn(claims []Claim, planID string) bool {
	for _, c := range claims {
		if c.PlanID == planID {
			return true
		}
	}
	return false
}

// Differs reports whether holding s would change m.
func (s Seat) Differs(m Member) bool {
	return s.PlanID != m.PlanID || s.Source != m.Source || s.DirectoryUserID != m.DirectoryUserID
}

// SeatAction names what moving m to s does, for the audit log ("" = no seat change).
func SeatAction(m Member, s Seat) string {
	switch {
	case m.PlanID == s.PlanID && m.Source == s.Source:
		return ""
	case m.PlanID == "":
		return ActionGranted
	case s.PlanID == "":
		return ActionMovedToFree
	case m.PlanID != s.PlanID:
		return ActionMoved
	}
	return ActionSourceChanged
}
