package dev.pgbatch.schedule;

import java.util.TimeZone;

import org.quartz.impl.jdbcjobstore.SimplePropertiesTriggerPersistenceDelegateSupport;
import org.quartz.impl.jdbcjobstore.SimplePropertiesTriggerProperties;
import org.quartz.impl.jdbcjobstore.TriggerPersistenceDelegate;
import org.quartz.spi.OperableTrigger;

/**
 * Stores a {@link WallClockCronTrigger} in Quartz's table of simple-property triggers: its expression and its
 * zone (the misfire instruction is a column of every trigger). Registered with the job store through
 * {@code org.quartz.jobStore.driverDelegateInitString}; public for Quartz, which instantiates it by name.
 */
public final class WallClockCronTriggerPersistence extends SimplePropertiesTriggerPersistenceDelegateSupport {

	/** The trigger_type column holds 8 characters. */
	private static final String TYPE = "WALLCRON";

	@Override
	public boolean canHandleTriggerType(OperableTrigger trigger) {
		return trigger instanceof WallClockCronTrigger;
	}

	@Override
	public String getHandledTriggerTypeDiscriminator() {
		return TYPE;
	}

	@Override
	protected SimplePropertiesTriggerProperties getTriggerProperties(OperableTrigger trigger) {
		WallClockCronTrigger cron = (WallClockCronTrigger) trigger;
		SimplePropertiesTriggerProperties properties = new SimplePropertiesTriggerProperties();
		properties.setString1(cron.getCronExpression());
		properties.setString2(cron.getTimeZone().getID());
		return properties;
	}

	@Override
	protected TriggerPersistenceDelegate.TriggerPropertyBundle getTriggerPropertyBundle(
			SimplePropertiesTriggerProperties properties) {
		// the misfire instruction is set from its own column after the trigger is built
		return new TriggerPersistenceDelegate.TriggerPropertyBundle(
				new WallClockCronTrigger.Schedule(properties.getString1(), TimeZone.getTimeZone(properties.getString2()), 0),
				new String[0], new Object[0]);
	}

}
