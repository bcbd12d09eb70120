# Dayaq — English. Keys must exist in az, ru and en (a test checks).

skip-to-content = Skip to content
nav-label = Main
nav-home = Home
nav-cases = Cases
nav-new-case = New case
nav-users = Users
nav-account = My account
nav-sign-out = Sign out
lang-switch = Language
timeout-warning = Your session will end soon because of inactivity. Save your work or reload the page to stay signed in.
footer-confidential = Confidential. Everything you see here is about people at risk: do not copy it outside Dayaq.

login-title = Sign in
login-username = Username
login-password = Password
login-submit = Sign in
login-failed = Sign-in failed. Check your username and password. After many failed attempts the account is locked for up to an hour.
login-throttled = Too many attempts from this address. Try again in { $seconds ->
    [one] { $seconds } second
   *[other] { $seconds } seconds
}.

totp-title = Second factor
totp-help = Enter the 6-digit code from your authenticator app.
totp-code = Code
totp-submit = Confirm
totp-wrong = The code is not correct or was already used. Wait for the next code and try again.

enrol-title = Set up the second factor
enrol-help = Your role requires a second factor. Scan the QR code with an authenticator app (for example FreeOTP or Aegis), then enter the code it shows.
enrol-qr-alt = QR code for the authenticator app
enrol-secret = Or enter this key by hand:
enrol-submit = Activate

role-caseworker = Caseworker
role-supervisor = Supervisor
role-police-officer = Police identification officer
role-hotline-operator = Hotline operator
role-org-admin = Organisation administrator
role-national-coordinator = National coordinator
role-researcher = Researcher
role-auditor = Auditor
role-system-admin = System administrator

error-back-home = Back to the home page
error-not-found = Not found
error-not-found-text = This page does not exist, or you do not have access to it.
error-forbidden = Not allowed
error-forbidden-text = Your role does not allow this action.
error-conflict = Changed by someone else
error-conflict-text = Someone changed this record after you opened it. Reload it and make your change again.
error-csrf = Form expired
error-csrf-text = The form was too old or came from elsewhere. Go back, reload the page and try again.
error-too-many = Too many attempts
error-too-many-text = Please wait a little and try again.
error-unauthorized = Please sign in
error-unauthorized-text = Your session has ended. Sign in again.
error-internal = Something went wrong
error-internal-text = The error was recorded. Try again; if it happens again, tell your administrator.

err-too-long = too long
err-control-characters = contains characters that are not allowed
err-invalid-date = is not a valid date
err-in-future = cannot be in the future
err-too-early = is too far in the past
err-invalid-phone = must have 5 to 15 digits
err-invalid-email = is not an e-mail address
err-invalid-country = must be a two-letter country code such as AZ
err-invalid-value = is not one of the allowed values
err-out-of-range = is out of range
err-required = is required
err-invalid-number = must be a whole number
err-mismatch = does not match
err-too-short = is too short (at least 12 characters)
err-wrong-password = is not correct
err-invalid-username = may contain only lowercase letters, digits, dots, dashes and underscores (3–64)
err-taken = is already taken

field-prs-firstname = First name
field-prs-middlename = Middle name
field-prs-secondname = Last name
field-prs-birthdate = Date of birth
field-prs-identitynumber = Identity document number
field-prs-mobilephone = Mobile phone
field-prs-homephone = Home phone
field-prs-email = E-mail
field-prs-mailingstreet = Street address
field-prs-mailingcity = City
field-prs-mailingcountry = Country of address
field-cco-casecomment = Case notes
field-prs-gender = Gender
field-prs-citizenship = Citizenship
field-vic-agewhentrafficked = Age when trafficked
field-vic-typeofexploitation = Type of exploitation
field-cas-status = Case status
field-cas-reasonforcaseclosure = Reason for closure
field-password = Password
field-current-password = Current password
field-new-password = New password
field-confirm-password = Repeat the new password
field-username = Username
field-role = Role

home-title = Overview
home-org = Organisation
home-caseload = My caseload
home-open-cases = { $count ->
    [one] { $count } case in your organisation
   *[other] { $count } cases in your organisation
}
home-due = Due today
home-nothing-due = Nothing is due today.
home-approvals = Waiting for your approval
home-no-approvals = Nothing is waiting for approval.
home-stats-title = National statistics
home-stats-total = Cases recorded
home-stats-by-status = By case status
home-stats-by-gender = By gender
home-stats-by-tstatus = By identification status
home-stats-suppressed-note = Counts from 1 to 4 are shown as “<5” so that no person can be recognised.
home-audit-title = Audit log
home-audit-ok = { $rows ->
    [one] The chain is intact ({ $rows } entry).
   *[other] The chain is intact ({ $rows } entries).
}
home-audit-problems = The audit chain is broken:
home-researcher-text = Anonymised data releases will appear here. You never see individual cases.
home-admin-text = You manage the users of your organisation. Case content is not visible to administrators.

cases-title = Cases
cases-search-title = Find a case
cases-search-number = Case number
cases-search-name-help = Or search by exact first name, last name and date of birth together (all three are needed).
search-submit = Search
search-needs = Enter a case number, or the first name, last name and date of birth together.
cases-none = No cases.
cases-results = Search results
cases-elsewhere = A possible match exists at:
cases-elsewhere-help = You cannot see that record. If the person agrees, ask that organisation for a referral.
col-case-number = Case number
col-status = Status
col-tstatus = Identification
col-gender = Gender
col-updated = Updated

new-title = New case
new-identity-legend = Identity
new-encrypted-note = These fields are encrypted and shown only to people allowed to see them.
new-context-legend = About the case
new-select-none = — not recorded —
new-submit = Create case

case-title = Case
case-summary = Summary
case-owner = Responsible organisation
case-age-band = Age group
case-version = Version
case-identity = Identity
case-identity-hidden = Identity details are hidden. Show them only when you need them; every view is recorded.
case-reveal = Show identity
case-reveal-note = This view was recorded in the audit log.
case-no-identity = No identity details were recorded.
case-print-identity = Include identity when printing
case-timeline = Timeline

event-case-created = Case created
event-case-updated = Case updated
event-case-erased = Case erased

account-title = My account
account-sessions = Where you are signed in
account-current = This session
col-started = Started
col-last-seen = Last active
col-device = Browser
session-revoke = Sign out this session
account-password = Change password
password-submit = Change password
password-changed = Your password was changed. Your other sessions were signed out.

users-title = Users of your organisation
users-create = Add a user
users-created = User { $username } was created.
users-password-once = Give this password to the user in person; it is shown only once:
col-username = Username
col-role = Role
col-totp = Second factor
yes = Yes
no = No

v-prs-gender-feminine = Female
v-prs-gender-masculine = Male
v-prs-gender-transgenderfeminine = Transgender female
v-prs-gender-transgendermasculine = Transgender male
v-prs-gender-nonconforming = Gender non-conforming
v-prs-gender-nonspecifiedunknown = Not specified
v-cas-status-active = Active
v-cas-status-followup = Follow-up
v-cas-status-closed = Closed
v-cas-status-closedreferred = Closed (referred)
v-vic-traffickingstatus-possiblevictimoftrafficking = Possible victim
v-vic-traffickingstatus-actualvictimoftrafficking = Identified victim
v-vic-traffickingstatus-notavictimoftrafficking = Not a victim
v-vic-typeofexploitation-forcedlabour = Forced labour
v-vic-typeofexploitation-sexualexploitation = Sexual exploitation
v-vic-typeofexploitation-childlabour = Child labour
v-vic-typeofexploitation-forcedmarriage = Forced marriage
v-vic-typeofexploitation-servitude = Servitude
v-vic-typeofexploitation-forcedmilitarybynonstateactors = Forced military service by non-state actors
v-vic-typeofexploitation-organremoval = Organ removal
v-vic-typeofexploitation-forcedbegging = Forced begging
v-vic-typeofexploitation-forcedadoption = Forced adoption
v-vic-typeofexploitation-surrogacy = Surrogacy
v-vic-typeofexploitation-other = Other
