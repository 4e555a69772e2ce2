# The seed's setup ("Configure Email Integration Using Office 365 with Exchange", steps 1 to 5.8)
# as one script for exo-admin against exo-harness (docs/exo-admin.md):
#
#   build/bin/exo-harness --ready-file /tmp/exo-ready.json \
#       --mailbox adelev@contoso.onmicrosoft.com --mailbox alexw@contoso.onmicrosoft.com &
#   build/bin/exo-admin --ready-file /tmp/exo-ready.json --script docs/examples/seed-setup.ps1
#
# Steps 1-4 happen in the Azure portal in the seed; here they are Microsoft Graph PowerShell SDK
# lines. Step 5 is the seed's own PowerShell, with its placeholders (<APPLICATION_ID>,
# <OBJECT_ID>, the group's address) filled in from steps 1-4.

# 1. Register an app with the Microsoft identity platform (1.1-1.4), asking for full_access_as_app
#    of Office 365 Exchange Online (2.1-2.2).
Connect-MgGraph -TenantId contoso.onmicrosoft.com -Scopes Application.ReadWrite.All -NoWelcome
$app = New-MgApplication -DisplayName "Bizagi App 1" -RequiredResourceAccess @(
    @{ResourceAppId = "00000002-0000-0ff1-ce00-000000000000"
      ResourceAccess = @(@{Id = "dc890d15-9560-4a4c-9b7f-a736ec74ec40"; Type = "Role"})})
$app
# The app's enterprise application (service principal): step 5.5's OBJECT_ID.
$sp = New-MgServicePrincipal -AppId $app.AppId
$sp

# 2.3 Grant admin consent: assign full_access_as_app (dc890d15-...) of Office 365 Exchange Online.
$exo = Get-MgServicePrincipal -Filter "appId eq '00000002-0000-0ff1-ce00-000000000000'"
New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $sp.Id -PrincipalId $sp.Id `
    -ResourceId $exo.Id -AppRoleId dc890d15-9560-4a4c-9b7f-a736ec74ec40

# 3. Create the client secret (3.1) and copy its value (3.2): it is shown only here.
$secret = Add-MgApplicationPassword -ApplicationId $app.Id -PasswordCredential @{DisplayName = "Bizagi"}
$secret

# 4. Identify the application data.
Write-Host "APPLICATION_ID (client id): $($app.AppId)"
Write-Host "OBJECT_ID (enterprise application): $($sp.Id)"

# 5.1 Set the execution policy.
Set-ExecutionPolicy RemoteSigned
# 5.2 Install and import the ExchangeOnlineManagement module.
Install-Module -Name ExchangeOnlineManagement
Import-Module ExchangeOnlineManagement
# 5.3 Connect and log in as administrator (the password comes from the ready file or a prompt).
Connect-ExchangeOnline -UserPrincipalName admin@contoso.onmicrosoft.com
# 5.4 Hybrid: the same with a credential object.
$lc = Get-Credential
Connect-ExchangeOnline -Credential $lc -ShowBanner:$false
# 5.5 Create the service entity in Exchange.
New-ServicePrincipal -AppId $app.AppId -ServiceId $sp.Id
# 5.7 A mail-enabled security group with the mailboxes the app may read, and the policy.
New-DistributionGroup -Name EvenUsers -Type Security -PrimarySmtpAddress evenusers@contoso.onmicrosoft.com
Add-DistributionGroupMember -Identity EvenUsers -Member adelev@contoso.onmicrosoft.com
New-ApplicationAccessPolicy -AppId $app.AppId -PolicyScopeGroupId "evenusers@contoso.onmicrosoft.com" -AccessRight RestrictAccess -Description "Restrict this app to members of distribution group EvenUsers."
# 5.8 Test the policy: Granted for a member, Denied for anyone else.
Test-ApplicationAccessPolicy -Identity "adelev@contoso.onmicrosoft.com" -AppId $app.AppId
Test-ApplicationAccessPolicy -Identity "alexw@contoso.onmicrosoft.com" -AppId $app.AppId
Disconnect-ExchangeOnline -Confirm:$false
