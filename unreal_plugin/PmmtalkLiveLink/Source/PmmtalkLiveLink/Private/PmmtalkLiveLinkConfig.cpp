#include "PmmtalkLiveLinkConfig.h"

#include "PmmtalkLiveLinkSettings.h"

#include <cmath>

namespace PmmtalkLiveLink
{
FString ToFString(const std::string& Utf8)
{
	return FString(UTF8_TO_TCHAR(Utf8.c_str()));
}

std::string ToUtf8(const FString& Text)
{
	return std::string(TCHAR_TO_UTF8(*Text));
}

Pmmtalk::FSourceConfig ToSourceConfig(const FPmmtalkLiveLinkOptions& Options)
{
	Pmmtalk::FSourceConfig Config;
	Config.Port = Options.Port;
	Config.BindAddress = ToUtf8(Options.BindAddress.TrimStartAndEnd());
	Config.Subjects = ToUtf8(Options.SubjectFilter);
	Config.bKeepAlive = Options.bKeepAlive;
	// Out-of-range (or NaN) seconds become an out-of-range millisecond count that ValidateConfig rejects.
	const double Milliseconds = double(Options.NeutralAfterSeconds) * 1000.0;
	Config.NeutralAfterMs = (Milliseconds >= 0.0 && Milliseconds <= double(Pmmtalk::MaxNeutralAfterMs))
		? int32(std::lround(Milliseconds))
		: -1;
	Config.bReceiveVmc = Options.bReceiveVmc;
	Config.VmcSubject = ToUtf8(Options.VmcSubject.TrimStartAndEnd());
	return Config;
}

FPmmtalkLiveLinkOptions ToOptions(const Pmmtalk::FSourceConfig& Config)
{
	FPmmtalkLiveLinkOptions Options;
	Options.Port = Config.Port;
	Options.BindAddress = ToFString(Config.BindAddress);
	Options.SubjectFilter = ToFString(Config.Subjects);
	Options.bKeepAlive = Config.bKeepAlive;
	Options.NeutralAfterSeconds = float(Config.NeutralAfterMs) / 1000.0f;
	Options.bReceiveVmc = Config.bReceiveVmc;
	Options.VmcSubject = ToFString(Config.VmcSubject);
	return Options;
}

Pmmtalk::FSourceConfig ProjectDefaults()
{
	return ToSourceConfig(GetDefault<UPmmtalkLiveLinkSettings>()->Defaults);
}
}  // namespace PmmtalkLiveLink
