// The module: nothing to start. Live Link finds the source factory by reflection; the sources are owned
// by the Live Link client, which shuts them down (their receiver threads end on their own; the last
// ones are waited for here).

#include "CoreMinimal.h"
#include "Modules/ModuleManager.h"
#include "PmmtalkLiveLinkLog.h"
#include "PmmtalkLiveLinkSource.h"

#include "Protocol/PmmtalkWire.h"

DEFINE_LOG_CATEGORY(LogPmmtalkLiveLink);

class FPmmtalkLiveLinkModule : public IModuleInterface
{
public:
	virtual void StartupModule() override
	{
		UE_LOG(LogPmmtalkLiveLink, Log, TEXT("pmmtalk Live Link loaded (OSC protocol %d)"), Pmmtalk::ProtocolVersion);
	}

	virtual void ShutdownModule() override
	{
		FPmmtalkLiveLinkSource::DeleteStoppedReceivers(true);
	}
};

IMPLEMENT_MODULE(FPmmtalkLiveLinkModule, PmmtalkLiveLink)
