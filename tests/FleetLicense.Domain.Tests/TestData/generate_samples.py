import json, random
def w(path, text, enc='utf-8', nl='\r\n', bom=False):
    data = text.replace('\n', nl)
    b = data.encode(enc)
    if bom:
        b = {'utf-16-le': b'\xff\xfe', 'utf-8': b'\xef\xbb\xbf', 'utf-16-be': b'\xfe\xff'}[enc] + b
    open(path, 'wb').write(b)

# slmgr /dlv captured from an 80-column console: banner, prompt, lines wrapped mid-word.
def wrap80(text):
    out=[]
    for line in text.split('\n'):
        while len(line) > 80:
            out.append(line[:80]); line = line[80:]
        out.append(line)
    return '\n'.join(out)
dlv = """Name: Windows(R), Professional edition
Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel -- Windows Pro
Activation ID: 2de67392-b7a7-462a-b1ca-108dd189f588
Application ID: 55c92734-d682-4d71-983e-d6ec3f16059f
Extended PID: 03612-03308-000-000000-03-1033-22631.0000-1202024
Product Key Channel: Volume:GVLK
Installation ID: 123456789012345678901234567890123456789012345678901234567890123
Use License URL: https://activation-v2.sls.microsoft.com/SLActivateProduct/SLActivateProduct.asmx?configextension=Retail
Validation URL: https://validation-v2.sls.microsoft.com/SLWGA/slwga.asmx
Partial Product Key: T83GX
License Status: Licensed
Volume activation expiration: 259197 minute(s) (180 day(s))
Remaining Windows rearm count: 1001
Remaining SKU rearm count: 1001
Trusted time: 3/14/2025 9:26:53 AM

Configured Activation Type: All

Most recent activation information:
Key Management Service client information
    Client Machine ID (CMID): 6e0c1f1f-7d2b-4b5e-9a43-2b9a6c6f1d1e
    Registered KMS machine name: kms.digiboy.ir:1688
    KMS machine IP address: 203.0.113.7
    KMS machine extended PID: 06401-00206-271-298329-03-1033-9600.0000-0452017
    Activation interval: 120 minutes
    Renewal interval: 10080 minutes
    KMS host caching is enabled"""
# Make the description wrap inside "channel" exactly like a narrow console does.
dlv = dlv.replace("VOLUME_KMSCLIENT channel -- Windows Pro", "VOLUME_KMSCLIENT channel")
desc = "Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel"
text = "Microsoft (R) Windows Script Host Version 5.812\nCopyright (C) Microsoft Corporation. All rights reserved.\n\nC:\\Windows\\system32>cscript //nologo slmgr.vbs /dlv\nSoftware licensing service version: 10.0.22621.4249\n\n" + wrap80(dlv) + "\n\nC:\\Windows\\system32>"
# force the "chan"/"nel" split seen in the wild (console 63 columns wide for that line)
text = text.replace(desc, desc[:63] + "\n" + desc[63:])
w('slmgr/wrapped-console-dlv-utf16.txt', text, enc='utf-16-le', bom=True)

w('slmgr/kms38-dli.txt', """Name: Windows(R), Professional edition
Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel
Partial Product Key: T83GX
License Status: Licensed
Volume activation expiration: 6884180 minute(s) (4781 day(s))

Key Management Service client information
    Client Machine ID (CMID): 0ae1c6f4-2c9d-4f0e-8a71-3f1b8f0d3a52
    Registered KMS machine name: 127.0.0.2:1688
    KMS machine IP address: not available
    KMS machine extended PID: 03612-00206-556-123727-03-1033-17763.0000-2792018
    Activation interval: 120 minutes
    Renewal interval: 10080 minutes
    KMS host caching is enabled
""")

w('slmgr/dlv-all-multi.txt', """Software licensing service version: 10.0.19041.3996

Name: Windows(R), Enterprise edition
Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel
Activation ID: 73111121-5638-40f6-bc11-f1d7b0d64300
Application ID: 55c92734-d682-4d71-983e-d6ec3f16059f
Extended PID: 
Product Key Channel: Volume:GVLK
Installation ID: 
Use License URL: 
Validation URL: 
Partial Product Key: 
This license is not in use.

Name: Windows(R), Core edition
Description: Windows(R) Operating System, RETAIL channel
Activation ID: fe74f55b-0c4c-4ff4-9f98-7ab9ce8f5ad8
Application ID: 55c92734-d682-4d71-983e-d6ec3f16059f
Extended PID: 03612-03266-000-000000-00-1033-19041.0000-0032024
Product Key Channel: Retail
Installation ID: 
Partial Product Key: 8HVX7
License Status: Notification
Notification Reason: 0xC004F034.
Remaining Windows rearm count: 1001
Remaining SKU rearm count: 1001
Trusted time: 

Name: Office 16, Office16ProPlusR_Retail edition
Description: Office 16, RETAIL(Grace) channel
Activation ID: c8ce6adc-ede7-4ce2-8e7b-c49f462ab8c3
Application ID: 0ff1ce15-a989-479d-af46-f275c6370663
Extended PID: 03356-02718-000-000000-00-1033-19041.0000-0032024
Product Key Channel: Retail
Partial Product Key: 8MBCX
License Status: Initial grace period
Time remaining: 7200 minute(s) (5 day(s))
Remaining App rearm count: 0
Remaining SKU rearm count: 0
""")

w('slmgr/localized-de-dli.txt', """Name: Windows(R), Professional edition
Beschreibung: Windows(R) Operating System, OEM_DM channel
Teil-Product Key: 3V66T
Lizenzstatus: Lizenziert
""")

w('slmgr/xpr-permanent.txt', "Microsoft (R) Windows Script Host Version 5.812\nCopyright (C) Microsoft Corporation. All rights reserved.\n\nWindows(R), Professional edition:\n    The machine is permanently activated.\n\n")
w('slmgr/xpr-volume.txt', "Windows(R), Enterprise edition:\n    Volume activation will expire 19.01.2038 04:14:07\n")
w('slmgr/xpr-notification.txt', "Windows(R), Core edition:\n    Windows is in Notification mode\n")

# PowerShell 7 ConvertTo-Json of CIM instances: a Home machine KMS-activated from a public emulator.
def cim(cls, **props):
    d = dict(props)
    d["CimClass"] = "root/cimv2:" + cls
    d["CimInstanceProperties"] = [f"{k} = {v}" for k, v in list(props.items())[:2]]
    d["CimSystemProperties"] = {"Namespace": "root/cimv2", "ServerName": "DESKTOP-7H2K9Q1", "ClassName": cls, "Path": None}
    return d
prod = lambda **p: cim("SoftwareLicensingProduct", **p)
arr = [
    prod(Name="Windows(R), Core edition", Description="Windows(R) Operating System, VOLUME_KMSCLIENT channel",
         ApplicationID="55c92734-d682-4d71-983e-d6ec3f16059f", ID="e0c42288-980c-4788-a014-c080d2e1926e", LicenseFamily="Core",
         LicenseIsAddon=False, ProductKeyChannel="Volume:GVLK", PartialProductKey="H8Q99", LicenseStatus=1, LicenseStatusReason=1074065472,
         GracePeriodRemaining=64800, EvaluationEndDate="1601-01-01T00:00:00+00:00", KeyManagementServiceMachine="kms.digiboy.ir",
         KeyManagementServicePort=1688, DiscoveredKeyManagementServiceMachineName="", DiscoveredKeyManagementServiceMachinePort=0,
         DiscoveredKeyManagementServiceMachineIpAddress="", VLActivationInterval=120, VLRenewalInterval=10080,
         IsKeyManagementServiceMachine=0, KeyManagementServiceCurrentCount=4294967295, RequiredClientCount=4294967295,
         RemainingAppReArmCount=1001, RemainingSkuReArmCount=4294967295, ProductKeyID="03612-04130-000-000000-03-1033-22631.0000-0412025"),
    prod(Name="Office 16, Office16ProPlus2021VL_KMS_Client_AE edition", Description="Office 16, VOLUME_KMSCLIENT channel",
         ApplicationID="0ff1ce15-a989-479d-af46-f275c6370663", ID="fbdb3e18-a8ef-4fb3-9183-dffd60bd0984", LicenseFamily="Office16ProPlus2021VL_KMS_Client_AE",
         LicenseIsAddon=False, ProductKeyChannel="Volume:GVLK", PartialProductKey="8ТEST".replace("8ТEST","KDX7X"), LicenseStatus=1, GracePeriodRemaining=258000,
         KeyManagementServiceMachine="kms.digiboy.ir", KeyManagementServicePort=1688, EvaluationEndDate="1601-01-01T00:00:00+00:00"),
    prod(Name="Windows(R), Client-ESU-Year1 add-on for Education,EducationN,Enterprise,EnterpriseN,Professional,Core", Description="Windows(R) Operating System, VOLUME_MAK channel",
         ApplicationID="55c92734-d682-4d71-983e-d6ec3f16059f", ID="f520e45e-7413-4a34-a497-d2765967d094", LicenseFamily="Client-ESU-Year1",
         LicenseIsAddon=True, ProductKeyChannel="Volume:MAK", PartialProductKey="4C6R8", LicenseStatus=0, GracePeriodRemaining=0),
]
w('wmi/pwsh7-cim-home-kms-public.json', json.dumps(arr, indent=2), nl='\n')

# Windows PowerShell 5.1: one object grouping several classes; dates as \/Date(ms)\/; UTF-16 LE with BOM (> redirection).
ps51 = {
  "SoftwareLicensingProduct": [{
      "__CLASS": "SoftwareLicensingProduct", "Name": "Windows(R), Professional edition",
      "Description": "Windows(R) Operating System, VOLUME_MAK channel", "ApplicationID": "55c92734-d682-4d71-983e-d6ec3f16059f",
      "ID": "2de67392-b7a7-462a-b1ca-108dd189f588", "LicenseFamily": "Professional", "LicenseIsAddon": False,
      "ProductKeyChannel": "Volume:MAK", "PartialProductKey": "7QX4P", "LicenseStatus": 1, "GracePeriodRemaining": 0,
      "EvaluationEndDate": "/Date(-11644473600000)/", "KeyManagementServiceCurrentCount": 4294967295,
      "ProductKeyID": "03612-03308-123-456789-03-1033-22631.0000-1202024"}],
  "SoftwareLicensingService": {
      "__CLASS": "SoftwareLicensingService", "Version": "10.0.22621.4249", "ClientMachineID": "6e0c1f1f-7d2b-4b5e-9a43-2b9a6c6f1d1e",
      "KeyManagementServiceMachine": "", "KeyManagementServicePort": 1688,
      "OA3xOriginalProductKey": "YTMG3-N6DKC-DKB77-7M9GH-8HVX7", "OA3xOriginalProductKeyDescription": "[4.0] Core OEM:DM",
      "RemainingWindowsReArmCount": 1001},
  "Win32_ComputerSystem": {"__CLASS": "Win32_ComputerSystem", "Name": "LAPTOP-HOME01", "DNSHostName": "LAPTOP-HOME01",
      "Manufacturer": "HP", "Model": "HP Laptop 15-dw3xxx", "PCSystemType": 2, "PartOfDomain": False, "Domain": "WORKGROUP", "Workgroup": "WORKGROUP"},
  "Win32_ComputerSystemProduct": {"__CLASS": "Win32_ComputerSystemProduct", "UUID": "4C4C4544-0042-3510-8052-B2C04F4E3332",
      "IdentifyingNumber": "5CD1234XYZ", "Vendor": "HP", "Name": "HP Laptop 15-dw3xxx"},
  "Win32_SystemEnclosure": {"__CLASS": "Win32_SystemEnclosure", "ChassisTypes": [10], "Manufacturer": "HP"},
  "CurrentVersion": {"EditionID": "Professional", "CurrentBuild": "22631", "ProductName": "Windows 10 Pro", "DisplayVersion": "23H2"},
}
w('wmi/ps51-grouped-consumer-device-utf16.json', json.dumps(ps51, indent=4).replace('/Date(', '\\/Date(').replace(')/', ')\\/'), enc='utf-16-le', bom=True)

# wmic path SoftwareLicensingProduct get * /format:list, redirected: UTF-16 LE with BOM, CR CR LF, several SKUs without keys.
rows = [
  dict(ApplicationID="55c92734-d682-4d71-983e-d6ec3f16059f", Description="Windows(R) Operating System, VOLUME_MAK channel", ID="cce9d2de-98ee-4ce2-8113-222620c64a27", LicenseFamily="EnterpriseN", LicenseStatus="0", Name="Windows(R), EnterpriseN edition", PartialProductKey="", GracePeriodRemaining="0"),
  dict(ApplicationID="55c92734-d682-4d71-983e-d6ec3f16059f", Description="Windows(R) Operating System, VOLUME_KMSCLIENT channel", DiscoveredKeyManagementServiceMachineIpAddress="10.20.30.40", DiscoveredKeyManagementServiceMachineName="kms01.corp.example", DiscoveredKeyManagementServiceMachinePort="1688", EvaluationEndDate="16010101000000.000000-000", GracePeriodRemaining="4320", ID="73111121-5638-40f6-bc11-f1d7b0d64300", IsKeyManagementServiceMachine="0", KeyManagementServiceCurrentCount="4294967295", KeyManagementServiceMachine="", KeyManagementServicePort="0", LicenseFamily="Enterprise", LicenseIsAddon="FALSE", LicenseStatus="3", LicenseStatusReason="3221549071", Name="Windows(R), Enterprise edition", PartialProductKey="2YT43", ProductKeyChannel="Volume:GVLK", ProductKeyID="03612-03309-000-000000-03-1033-19045.0000-0712024", RemainingAppReArmCount="1001", RemainingSkuReArmCount="1001", VLActivationInterval="120", VLRenewalInterval="10080"),
  dict(ApplicationID="0ff1ce15-a989-479d-af46-f275c6370663", Description="Office 16, VOLUME_KMSCLIENT channel", ID="d450596f-894d-49e0-966a-fd39ed4c4c64", LicenseFamily="Office16ProPlusVL_KMS_Client", LicenseStatus="0", Name="Office 16, Office16ProPlusVL_KMS_Client edition", PartialProductKey=""),
]
lines = []
for r in rows:
    lines += ["", ""] + [f"{k}={v}" for k, v in sorted(r.items())] + [""]
open('wmi/wmic-list-utf16.txt', 'wb').write(b'\xff\xfe' + ('\r\r\n'.join(lines) + '\r\r\n').encode('utf-16-le'))

# glpi-agent's office_2016_01 SoftwareLicensingProduct.wmi is stored as UTF-16 binary; rebuilt from the values its test expects.
office = dict(ApplicationID="0ff1ce15-a989-479d-af46-f275c6370663", Description="Office 16, VOLUME_KMSCLIENT channel",
    ID="d450596f-894d-49e0-966a-fd39ed4c4c64", LicenseFamily="Office16ProPlusVL_KMS_Client", LicenseIsAddon="FALSE", LicenseStatus="1",
    GracePeriodRemaining="259200", Name="Office 16, Office16ProPlusVL_KMS_Client edition", PartialProductKey="WE9H9",
    ProductKeyID="00339-10000-00000-AA680", ProductKeyChannel="Volume:GVLK", KeyManagementServiceMachine="", KeyManagementServicePort="0")
open('wmi/glpi-office2016-wmic-utf16.txt', 'wb').write(b'\xff\xfe' + ('\r\n'.join(["", ""] + [f"{k}={v}" for k, v in sorted(office.items())] + ["", ""])).encode('utf-16-le'))

# Machine facts from fleetdm's osquery-perf windows_11.tmpl (Surface Laptop 2, Windows 11 Enterprise 22000), with a domain-joined KMS client.
fleet = [
  {"__CLASS": "Win32_ComputerSystem", "Name": "FLEET-W11-0001", "Manufacturer": "Microsoft Corporation", "Model": "Surface Laptop 2",
   "PCSystemType": 2, "PartOfDomain": True, "Domain": "corp.example"},
  {"__CLASS": "Win32_BIOS", "SerialNumber": "024175290357", "SMBIOSBIOSVersion": "139.3982.768"},
  {"__CLASS": "Win32_OperatingSystem", "Caption": "Microsoft Windows 11 Enterprise", "BuildNumber": "22000", "CSName": "FLEET-W11-0001"},
  {"__CLASS": "SoftwareLicensingProduct", "Name": "Windows(R), Enterprise edition", "Description": "Windows(R) Operating System, VOLUME_KMSCLIENT channel",
   "ApplicationID": "55c92734-d682-4d71-983e-d6ec3f16059f", "ID": "73111121-5638-40f6-bc11-f1d7b0d64300", "LicenseFamily": "Enterprise",
   "LicenseIsAddon": False, "ProductKeyChannel": "Volume:GVLK", "PartialProductKey": "2YT43", "LicenseStatus": 1, "GracePeriodRemaining": 250000,
   "DiscoveredKeyManagementServiceMachineName": "kms01.corp.example", "DiscoveredKeyManagementServiceMachinePort": 1688,
   "DiscoveredKeyManagementServiceMachineIpAddress": "10.20.30.40", "VLActivationInterval": 120, "VLRenewalInterval": 10080},
]
w('wmi/fleetdm-windows11-kms-client.json', json.dumps(fleet, indent=2), nl='\n')

# Windows Server evaluation: TIMEBASED_EVAL with a DMTF end date.
w('wmi/server-eval-format-list.txt', """Name                 : Windows(R), ServerStandardEval edition
Description          : Windows(R) Operating System, TIMEBASED_EVAL channel
ApplicationID        : 55c92734-d682-4d71-983e-d6ec3f16059f
ID                   : 9dfa8ec0-7665-4b9d-b2cb-bfc2dc37c9f4
LicenseFamily        : ServerStandardEval
ProductKeyChannel    : Retail:TB:Eval
PartialProductKey    : 4DPMM
LicenseStatus        : 1
GracePeriodRemaining : 259080
EvaluationEndDate    : 20250611101530.000000+120
LicenseIsAddon       : False

""")

# malformed
open('malformed/empty.txt', 'wb').write(b'')
open('malformed/whitespace.txt', 'wb').write(b'\r\n  \r\n\t\r\n')
rnd = random.Random(20250611)
open('malformed/garbage.bin', 'wb').write(bytes(rnd.randrange(256) for _ in range(4096)))
full = json.dumps(arr, indent=2)
open('malformed/truncated.json', 'wb').write(full[: len(full) // 2].encode())
w('malformed/unrelated.txt', "Hello,\nthis is a shopping list: eggs, milk, bread.\n")
w('malformed/format-table.txt', "Name                              LicenseStatus\n----                              -------------\nWindows(R), Professional edition              1\n")
w('malformed/slmgr-missing-status.txt', "Name: Windows(R), Professional edition\nDescription: Windows(R) Operating System, RETAIL channel\nPartial Product Key: 3V66T\n")
w('malformed/slmgr-unknown-status-text.txt', "Name: Windows(R), Professional edition\nDescription: Windows(R) Operating System, RETAIL channel\nPartial Product Key: 3V66T\nLicense Status: Lizenziert\n")
print("ok")
